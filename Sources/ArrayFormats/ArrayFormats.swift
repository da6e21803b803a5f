// .npy and safetensors readers and writers (NPY.swift, SafeTensors.swift); the checks every size read
// from a header passes (HeaderLimits.swift, TensorExtent.swift).
