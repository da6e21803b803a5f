import Foundation

/// A regular file read from a tar archive, held in memory.
public struct TarMember: Sendable {
    public let name: String
    public let bytes: [UInt8]
}

/// A streaming tar reader (POSIX ustar and GNU, with GNU long names and pax `path` records), fed
/// blocks of any size as they come out of gunzip. It verifies every header's checksum, refuses names
/// that could escape a directory, and keeps in memory only the regular files that `wants` selects.
/// It never touches the file system: member names are only compared, never opened.
public struct TarReader {
    private enum State {
        case header
        case data(member: String, remaining: Int, padding: Int, kind: Kind)
        case padding(remaining: Int)
        case end
    }

    private enum Kind { case keep, skip, longName, pax }

    private let archive: String
    private let wants: (String) -> Bool
    private var state = State.header
    private var block: [UInt8] = []
    private var offset: Int64 = 0  // archive offset of the next byte consumed
    private var headerOffset: Int64 = 0
    private var zeroBlocks = 0
    private var pendingName: String?
    private var current: [UInt8] = []
    private var seen = Set<String>()
    public private(set) var members: [TarMember] = []

    public init(archive: String, wants: @escaping (String) -> Bool) {
        self.archive = archive
        self.wants = wants
        block.reserveCapacity(512)
    }

    public mutating func consume(_ input: UnsafeRawBufferPointer) throws {
        var i = 0
        while i < input.count {
            switch state {
            case .end:
                return  // trailing zero blocks or the rest of the last record
            case .header:
                let take = min(512 - block.count, input.count - i)
                block.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<(i + take)]))
                i += take
                offset += Int64(take)
                if block.count == 512 {
                    try headerComplete()
                    block.removeAll(keepingCapacity: true)
                }
            case .data(let member, let remaining, let padding, let kind):
                let take = min(remaining, input.count - i)
                if kind != .skip {
                    current.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<(i + take)]))
                }
                i += take
                offset += Int64(take)
                if take == remaining {
                    try memberComplete(member, kind)
                    state = padding > 0 ? .padding(remaining: padding) : .header
                } else {
                    state = .data(member: member, remaining: remaining - take, padding: padding, kind: kind)
                }
            case .padding(let remaining):
                let take = min(remaining, input.count - i)
                i += take
                offset += Int64(take)
                state = take == remaining ? .header : .padding(remaining: remaining - take)
            }
        }
    }

    /// Call after the last byte: fails if the archive stops inside a header or a member.
    public mutating func finish() throws -> [TarMember] {
        switch state {
        case .end: break
        case .header where block.isEmpty: break  // some writers omit the two zero blocks
        case .header: throw ArchiveError.tarTruncated(archive: archive, member: "(header at byte \(offset - Int64(block.count)))")
        case .data(let member, _, _, _): throw ArchiveError.tarTruncated(archive: archive, member: member)
        case .padding: break
        }
        return members
    }

    private mutating func headerComplete() throws {
        headerOffset = offset - 512
        if block.allSatisfy({ $0 == 0 }) {
            zeroBlocks += 1
            if zeroBlocks == 2 { state = .end }
            return
        }
        zeroBlocks = 0
        try verifyChecksum()
        let magic = Array(block[257..<263])
        let isPOSIX = magic == Array("ustar\0".utf8)
        let isGNU = magic == Array("ustar ".utf8)
        guard isPOSIX || isGNU else {
            throw ArchiveError.tarHeaderCorrupt(archive: archive, offset: headerOffset, field: "magic",
                                                message: "not a ustar or GNU tar header")
        }
        var name = cString(0, 100)
        if isPOSIX {
            let prefix = cString(345, 155)
            if !prefix.isEmpty { name = prefix + "/" + name }
        }
        if let long = pendingName { name = long; pendingName = nil }
        let size = try number(124, 12, field: "size")
        let type = block[156]
        let kind: Kind
        switch type {
        case UInt8(ascii: "L"): kind = .longName
        case UInt8(ascii: "x"): kind = .pax
        case UInt8(ascii: "K"), UInt8(ascii: "g"): kind = .skip  // long link target, global pax: not needed
        default:
            try checkSafe(name)
            let regular = type == 0 || type == UInt8(ascii: "0") || type == UInt8(ascii: "7")
            if regular && wants(name) {
                guard seen.insert(name).inserted else { throw ArchiveError.duplicateMember(archive: archive, member: name) }
                kind = .keep
            } else {
                kind = .skip
            }
        }
        if kind == .longName || kind == .pax {
            guard size <= 1 << 20 else {
                throw ArchiveError.tarHeaderCorrupt(archive: archive, offset: headerOffset, field: "size",
                                                    message: "extended header of \(size) bytes is implausibly large")
            }
        }
        current = []
        if kind == .keep { current.reserveCapacity(size) }
        let padding = (512 - size % 512) % 512
        if size == 0 {
            try memberComplete(name, kind)
            state = .header
        } else {
            state = .data(member: name, remaining: size, padding: padding, kind: kind)
        }
    }

    private mutating func memberComplete(_ name: String, _ kind: Kind) throws {
        switch kind {
        case .keep: members.append(TarMember(name: name, bytes: current))
        case .skip: break
        case .longName: pendingName = String(decoding: current.prefix { $0 != 0 }, as: UTF8.self)
        case .pax: pendingName = paxPath(current) ?? pendingName
        }
        current = []
    }

    /// The checksum is the sum of the header's bytes with the checksum field read as eight spaces.
    /// Historic writers summed signed chars, so either sum is accepted.
    private func verifyChecksum() throws {
        let storedText = cString(148, 8).trimmingCharacters(in: .whitespaces)
        guard let stored = Int(storedText, radix: 8) else {
            throw ArchiveError.tarHeaderCorrupt(archive: archive, offset: headerOffset, field: "chksum",
                                                message: "'\(storedText)' is not an octal number")
        }
        var unsigned = 0, signed = 0
        for (k, byte) in block.enumerated() {
            let b = (148..<156).contains(k) ? 0x20 : byte
            unsigned += Int(b)
            signed += Int(Int8(bitPattern: b))
        }
        guard stored == unsigned || stored == signed else {
            throw ArchiveError.tarHeaderChecksum(archive: archive, offset: headerOffset, stored: stored, computed: unsigned)
        }
    }

    private func checkSafe(_ name: String) throws {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        if name.isEmpty || name.hasPrefix("/") || components.contains("..") || name.contains("\\") {
            throw ArchiveError.unsafeMemberName(archive: archive, member: name)
        }
    }

    private func cString(_ start: Int, _ length: Int) -> String {
        let field = block[start..<(start + length)]
        return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Octal, space/NUL padded; or GNU base-256 when the first byte has its high bit set.
    private func number(_ start: Int, _ length: Int, field: String) throws -> Int {
        let bytes = block[start..<(start + length)]
        if let first = bytes.first, first & 0x80 != 0 {
            var value = Int(first & 0x7F)
            for b in bytes.dropFirst() {
                guard value < Int.max >> 8 else { break }
                value = value << 8 | Int(b)
            }
            return value
        }
        let text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        guard let value = Int(text.isEmpty ? "0" : text, radix: 8), value >= 0 else {
            throw ArchiveError.tarHeaderCorrupt(archive: archive, offset: headerOffset, field: field,
                                                message: "'\(text)' is not an octal number")
        }
        return value
    }

    /// A pax extended header is records "<length> <key>=<value>\n"; only `path` matters here.
    private func paxPath(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        for record in text.split(separator: "\n") {
            guard let space = record.firstIndex(of: " ") else { continue }
            let pair = record[record.index(after: space)...]
            if pair.hasPrefix("path=") { return String(pair.dropFirst(5)) }
        }
        return nil
    }
}
