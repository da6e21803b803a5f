import Datasets
import Foundation
import Pipeline

/// `cifar10-decode`: reads the archive of its `download` dependency (streaming gunzip and tar, nothing
/// extracted) and writes train/test images (uint8 N×3×32×32) and labels (uint8) as .npy, the class names,
/// the training set's per-channel mean/std, and a summary with counts per class.
public struct CIFAR10DecodeStage: ParameterizedKind {
    public let name = "cifar10-decode"
    public let version = 1
    public struct Params: StageParams {
        @Param("records in each batch file; 10,000 in the CIFAR-10 release (smaller only in tests)") public var records_per_file = 10_000

        public init() {}
    }

    public init() {}

    public func run(_ context: StageContext, _ params: Params) throws {
        let records = params.records_per_file
        guard records > 0 else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "records_per_file", problem: "must be positive")
        }
        let archive = try Self.archive(in: context)
        let started = Date()
        var reported = -1
        let data = try CIFAR10Decoder(recordsPerFile: records).decode(archive: archive) { p in
            guard p.compressedBytesTotal > 0 else { return }
            let f = Double(p.compressedBytesRead) / Double(p.compressedBytesTotal)
            // One report per 5% keeps the log short.
            let bucket = Int(f * 20)
            if bucket > reported {
                reported = bucket
                context.progress(String(format: "decoding %.0f%%", f * 100), fraction: f)
            }
        }
        let decoded = Date()
        let stats = ChannelStats(of: data.train)
        try CIFAR10Arrays.write(data, stats: stats, to: context.outputDirectory)
        print(String(format: "decoded %d train and %d test images in %.2f s (written in %.2f s)",
                     data.train.count, data.test.count, decoded.timeIntervalSince(started), Date().timeIntervalSince(decoded)))
        print("train per class: \(data.train.countsPerClass()), test per class: \(data.test.countsPerClass())")
        print("mean \(stats.mean), std \(stats.std)")
    }

    /// The `.tar.gz` among the dependencies' outputs; exactly one must be there.
    static func archive(in context: StageContext) throws -> URL {
        let candidates = context.inputs.flatMap { input in input.files.filter { $0.key.hasSuffix(".tar.gz") }.map(\.value) }
        guard candidates.count == 1, let archive = candidates.first else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "deps",
                                             problem: "needs exactly one dependency output ending in .tar.gz (a download stage); found \(candidates.count)")
        }
        return archive
    }
}
