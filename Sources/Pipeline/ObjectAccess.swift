import AtomicIO
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What re-hashing one object found.
public enum ObjectCheck: Equatable, Sendable {
    case intact
    case missing
    /// Its bytes do not match its digest, or it is not a regular file (a planted symlink). `quarantine`
    /// says whether it was moved out of objects/.
    case corrupt(reason: String, quarantine: QuarantineResult)
    /// A regular file that could not be opened or read: left in place, since its bytes are unknown.
    case unreadable(reason: String)
}

public enum QuarantineResult: Equatable, Sendable {
    case moved(to: String)
    case failed(reason: String)
}

/// Reading objects: only regular files, never through a symlink (O_NOFOLLOW, then fstat), so a link
/// planted in objects/ can neither pass a check nor make `cat` or `publish` read another file.
extension CacheStore {
    /// Re-hashes an object; a corrupt one is moved to quarantine/, and the result says whether it moved.
    public func check(_ digest: String) -> ObjectCheck {
        let (descriptor, result) = openVerified(digest)
        if let descriptor { close(descriptor) }
        return result
    }

    /// Opens an object once, never through a symlink, and hashes it through that descriptor. When it is
    /// intact the descriptor is returned open (the caller closes it): whatever is read through it is the
    /// file that was hashed, whatever is swapped into objects/ afterwards.
    func openVerified(_ digest: String) -> (descriptor: Int32?, check: ObjectCheck) {
        guard Digest.isValid(digest) else { return (nil, .missing) }
        let path = objectPath(digest)
        var st = stat()
        guard lstat(path.path, &st) == 0 else {
            return (nil, errno == ENOENT ? .missing : .unreadable(reason: FileIO.errnoText("cannot stat")))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            let what = (st.st_mode & S_IFMT) == S_IFLNK ? "a symbolic link" : "not a regular file"
            return (nil, .corrupt(reason: what, quarantine: quarantine(digest)))
        }
        let fd: Int32, actual: String
        do {
            fd = try openObject(digest)
            var hasher = SHA256()
            do { try FileChunks.forEach(descriptor: fd, of: path) { hasher.update(bufferPointer: $0) } } catch { close(fd); throw error }
            actual = Digest.hex(hasher.finalize())
        } catch ObjectOpenError.notRegular(let what) {
            return (nil, .corrupt(reason: what, quarantine: quarantine(digest)))
        } catch let f as AtomicFile.Failure {
            return (nil, .unreadable(reason: f.message))
        } catch PipelineError.io(_, let reason) {
            return (nil, .unreadable(reason: reason))
        } catch {
            return (nil, .unreadable(reason: "\(error)"))
        }
        if actual == digest { return (fd, .intact) }
        close(fd)
        return (nil, .corrupt(reason: "its bytes hash to \(actual.prefix(16))…", quarantine: quarantine(digest)))
    }

    /// Moves an object (or whatever stands in its place) to quarantine/.
    public func quarantine(_ digest: String) -> QuarantineResult {
        let target = quarantineDirectory.appendingPathComponent("\(digest)-\(Int(Date().timeIntervalSince1970))-\(getpid())")
        guard Glibc.rename(objectPath(digest).path, target.path) == 0 else {
            return .failed(reason: FileIO.errnoText("cannot move it to \(quarantineDirectory.path)"))
        }
        return .moved(to: target.path)
    }

    /// The whole object, read without following a symlink.
    public func readObject(_ digest: String) throws -> Data {
        let fd: Int32
        do { fd = try openObject(digest) } catch ObjectOpenError.notRegular(let what) {
            throw PipelineError.io(path: objectPath(digest).path, reason: "\(what), not a cache object; `bnrepro verify` quarantines it")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do { return try handle.readToEnd() ?? Data() } catch {
            throw PipelineError.io(path: objectPath(digest).path, reason: "cannot read: \(error.localizedDescription)")
        }
    }

    enum ObjectOpenError: Error { case notRegular(String) }

    /// An open descriptor of a regular file (O_NONBLOCK, so a planted FIFO cannot block the open).
    func openObject(_ digest: String) throws -> Int32 {
        guard Digest.isValid(digest) else { throw PipelineError.io(path: digest, reason: "not a SHA-256 digest") }
        let path = objectPath(digest)
        let fd = open(path.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ELOOP { throw ObjectOpenError.notRegular("a symbolic link") }
            throw PipelineError.io(path: path.path, reason: FileIO.errnoText("cannot open"))
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw ObjectOpenError.notRegular("not a regular file")
        }
        return fd
    }
}
