// .npy and safetensors readers and writers.
@_exported import AtomicIO
