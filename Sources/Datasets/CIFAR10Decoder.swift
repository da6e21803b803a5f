import Foundation

/// Progress of a decode: compressed bytes read of the archive's size.
public struct DecodeProgress: Sendable {
    public let compressedBytesRead: Int64
    public let compressedBytesTotal: Int64
}

/// Decodes the CIFAR-10 binary release (`cifar-10-binary.tar.gz`) straight from the archive: gunzip and
/// tar in one streaming pass, nothing extracted to disk.
public struct CIFAR10Decoder: Sendable {
    public static let trainMembers = (1...5).map { "data_batch_\($0).bin" }
    public static let testMember = "test_batch.bin"
    public static let metaMember = "batches.meta.txt"
    public static let recordBytes = 1 + LabeledImages.imageBytes  // label byte, then R, G, B planes

    /// Records per batch file: 10,000 in the real release; tests build smaller archives.
    public let recordsPerFile: Int

    public init(recordsPerFile: Int = 10_000) {
        self.recordsPerFile = recordsPerFile
    }

    public func decode(archive url: URL, progress: ((DecodeProgress) -> Void)? = nil) throws -> CIFAR10 {
        let name = url.lastPathComponent
        let wanted = Set(Self.trainMembers + [Self.testMember, Self.metaMember])
        // Members are matched by their last path component: the release keeps them in
        // cifar-10-batches-bin/, but nothing depends on that directory's name.
        var tar = TarReader(archive: name) { wanted.contains(Self.baseName($0)) }
        try Gunzip.stream(file: url, progress: { read, total in
            progress?(DecodeProgress(compressedBytesRead: read, compressedBytesTotal: total))
        }, sink: { try tar.consume($0) })
        return try decode(members: try tar.finish(), archive: name)
    }

    /// Decodes members already read from an archive (keyed by full member name).
    public func decode(members: [TarMember], archive: String) throws -> CIFAR10 {
        var byBase: [String: TarMember] = [:]
        for m in members {
            let base = Self.baseName(m.name)
            guard byBase[base] == nil else { throw ArchiveError.duplicateMember(archive: archive, member: m.name) }
            byBase[base] = m
        }
        func member(_ base: String) throws -> TarMember {
            guard let m = byBase[base] else { throw CIFAR10Error.missingMember(archive: archive, member: base) }
            return m
        }
        let trainFiles = try Self.trainMembers.map(member)
        let testFile = try member(Self.testMember)
        let metaFile = try member(Self.metaMember)
        let train = try records(trainFiles, archive: archive)
        let test = try records([testFile], archive: archive)
        return CIFAR10(train: train, test: test, classNames: try classNames(metaFile, archive: archive))
    }

    private func records(_ files: [TarMember], archive: String) throws -> LabeledImages {
        let expected = recordsPerFile * Self.recordBytes
        for f in files where f.bytes.count != expected {
            throw CIFAR10Error.wrongSize(archive: archive, member: f.name, expectedBytes: expected, gotBytes: f.bytes.count)
        }
        let n = files.count * recordsPerFile
        var labels = [UInt8](repeating: 0, count: n)
        let imageBytes = LabeledImages.imageBytes
        var images = [UInt8](repeating: 0, count: n * imageBytes)
        try images.withUnsafeMutableBufferPointer { out in
            guard let outBase = out.baseAddress else { return }
            for (fileIndex, file) in files.enumerated() {
                try file.bytes.withUnsafeBufferPointer { src in
                    guard let srcBase = src.baseAddress else { return }
                    for r in 0..<recordsPerFile {
                        let record = srcBase + r * Self.recordBytes
                        let label = record[0]
                        guard label < 10 else {
                            throw CIFAR10Error.labelOutOfRange(archive: archive, member: file.name, record: r, label: Int(label))
                        }
                        let index = fileIndex * recordsPerFile + r
                        labels[index] = label
                        // The record's pixel bytes are already the N×3×32×32 layout: R plane, G plane, B plane.
                        (outBase + index * imageBytes).update(from: record + 1, count: imageBytes)
                    }
                }
            }
        }
        return try LabeledImages(images: images, labels: labels)
    }

    private func classNames(_ meta: TarMember, archive: String) throws -> [String] {
        let names = String(decoding: meta.bytes, as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard names.count == CIFAR10.classCount else {
            throw CIFAR10Error.badClassList(archive: archive, member: meta.name,
                                            message: "lists \(names.count) class names, expected \(CIFAR10.classCount)")
        }
        return names
    }

    static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
