import ArrayFormats
import Foundation

// Checkpoints: one safetensors file with every named tensor of `ParameterLayout` (parameters and
// running statistics, float32, names like `layer55.conv.weight`, see ParameterLayout.swift) and the
// configuration as JSON in the metadata under "config". numpy/PyTorch users load it with the
// `safetensors` package; the OIHW conv weights and [out, in] linear weights match PyTorch's layouts.
public enum CheckpointError: Error, CustomStringConvertible {
    case missingConfig
    case configMismatch(String)

    public var description: String {
        switch self {
        case .missingConfig: return "checkpoint has no 'config' metadata; was it written by bnrepro?"
        case .configMismatch(let why): return "checkpoint does not fit: \(why)"
        }
    }
}

extension ResNet {
    public func checkpoint(metadata extra: [String: String] = [:]) throws -> SafeTensorsFile {
        var file = SafeTensorsFile()
        let p = parameters.array, r = runningStats.array
        for e in layout.entries { file.tensors[e.name] = try SafeTensor(float32: Array(p[e.range]), shape: e.shape) }
        for e in statsLayout.entries { file.tensors[e.name] = try SafeTensor(float32: Array(r[e.range]), shape: e.shape) }
        file.metadata = extra
        // Sorted keys: JSONEncoder's order otherwise changes from process to process (hash seeding), and
        // the same weights must give the same bytes (`bnrepro audit` found it).
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        file.metadata["config"] = String(decoding: try encoder.encode(config), as: UTF8.self)
        file.metadata["format"] = "bnrepro ResNet checkpoint v1"
        return file
    }

    public func saveCheckpoint(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors.write(try checkpoint(metadata: metadata), to: url)
    }

    /// A model from a checkpoint; the configuration comes from its metadata.
    public convenience init(checkpoint file: SafeTensorsFile) throws {
        guard let json = file.metadata["config"] else { throw CheckpointError.missingConfig }
        let config = try JSONDecoder().decode(ResNetConfig.self, from: Data(json.utf8))
        func gather(_ layout: ParameterLayout) throws -> [Float] {
            var v = [Float](repeating: 0, count: layout.count)
            for e in layout.entries {
                let t = try file.tensor(e.name)
                guard t.shape == e.shape else {
                    throw CheckpointError.configMismatch("\(e.name) has shape \(t.shape), the config needs \(e.shape)")
                }
                v.replaceSubrange(e.range, with: try t.float32Values())
            }
            return v
        }
        try self.init(config: config, parameters: try gather(config.parameterLayout),
                      runningStats: try gather(config.runningStatsLayout))
    }

    public convenience init(checkpointAt url: URL) throws {
        try self.init(checkpoint: try SafeTensors.read(from: url))
    }
}
