// .npy and safetensors readers and writers (NPY.swift, SafeTensors.swift).
