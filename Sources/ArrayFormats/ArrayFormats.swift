// .npy and safetensors readers and writers.
