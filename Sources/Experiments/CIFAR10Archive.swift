import Pipeline

/// What a figure says of its data: which CIFAR-10 archive the download stage checked, known by its MD5.
/// Results from the team's local copy are CIFAR-10 results only up to its JPEG error, and its README asks
/// every report of them to say so (issue 21).
public enum CIFAR10Archive {
    /// The team's copy in `../shared/data/`: the official layout, rebuilt from JPEG copies of the 60,000
    /// images (quality 75), its test images in another order.
    public static let teamRebuildMD5 = "068f5e774bf515d3bf93efd83a9717b0"

    public static func description(md5: String) -> String {
        switch md5.lowercased() {
        case DownloadStage.officialMD5: return "data: the official CIFAR-10 archive"
        case teamRebuildMD5:
            return "data: the team's JPEG-derived rebuild of CIFAR-10 (pixels off by JPEG error, about 6 of 255), not the official archive"
        default: return "data: a CIFAR-10 archive with MD5 \(md5), not the official one"
        }
    }

    /// The description for the download stage among the stage's deps; nil when none is one.
    public static func description(_ context: StageContext) -> String? {
        guard let download = context.inputs(ofKind: DownloadStage().name).first else { return nil }
        return description(md5: download.params["md5"]?.stringValue ?? DownloadStage.officialMD5)
    }
}
