import Datasets
import Foundation
import Pipeline

/// `download`: fetches the CIFAR-10 binary archive and checks its MD5. The output is one file,
/// `cifar-10-binary.tar.gz`. To use the local copy instead of the official URL:
///   bnrepro run --set download.params.url=file:///work/shared/data/cifar-10-binary.tar.gz \
///               --set download.params.md5=068f5e774bf515d3bf93efd83a9717b0
public struct DownloadStage: ParameterizedKind {
    public static let officialURL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    public static let officialMD5 = "c32a1d4ab5d03f1284b67883e8d87530"
    public static let outputName = "cifar-10-binary.tar.gz"

    public let name = "download"
    public let version = 1
    public struct Params: StageParams {
        @Param("http(s) or file:// URL of the archive") public var url = officialURL
        @Param("expected MD5 of the archive (32 hex digits)") public var md5 = officialMD5
        @Param("seconds without data before an attempt fails") public var timeout = 60.0
        @Param("attempts after the first, with exponential back-off") public var retries = 5

        public init() {}
    }

    public init() {}

    public func run(_ context: StageContext, _ params: Params) throws {
        let text = params.url
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              ["http", "https", "file"].contains(scheme) else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "url",
                                             problem: "'\(text)' is not an http, https or file URL")
        }
        let md5 = params.md5.lowercased()
        guard md5.count == 32, md5.allSatisfy(\.isHexDigit) else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "md5", problem: "'\(md5)' is not 32 hex digits")
        }
        let retries = params.retries
        guard retries >= 0 else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "retries", problem: "must be 0 or more")
        }
        let downloader = Downloader(timeout: params.timeout, retries: retries, progressInterval: 0.5,
                                    partialDirectory: context.partialsDirectory)
        let result = try downloader.fetch(url: url, to: context.output(Self.outputName), expectedMD5: md5) { p in
            context.progress(Self.describe(p), fraction: p.totalBytes.map { $0 > 0 ? Double(p.bytes) / Double($0) : 0 })
        }
        print("fetched \(result.bytes) bytes from \(url.absoluteString) in \(result.attempts) attempt(s), "
              + "\(result.resumedBytes) bytes resumed; md5 \(result.md5), sha256 \(result.sha256)")
    }

    static func describe(_ p: DownloadProgress) -> String {
        let mb = { (b: Int64) in String(format: "%.1f MB", Double(b) / 1e6) }
        var s = mb(p.bytes)
        if let total = p.totalBytes { s += " of " + mb(total) }
        s += String(format: ", %.1f MB/s", p.bytesPerSecond / 1e6)
        if let eta = p.etaSeconds { s += String(format: ", ETA %.0f s", eta) }
        return s
    }
}
