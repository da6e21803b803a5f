import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A stage's input objects, each opened once without following a symlink and hashed through that
/// descriptor, then handed to the stage as `/proc/self/fd/<n>`. Opening that path reopens the very file
/// the descriptor holds, not whatever objects/ names by then, so a symlink or another file swapped in
/// between the check and the read cannot be read instead. The descriptors stay open until the stage is
/// done (`close`). Without /proc (not Linux) the stage gets the object's path, and the window between
/// the check and the stage's own open remains.
final class VerifiedInputs {
    private var descriptors: [String: Int32] = [:]
    private static let procFDs = URL(fileURLWithPath: "/proc/self/fd")
    private static let hasProc = FileManager.default.fileExists(atPath: "/proc/self/fd")

    deinit { close() }

    /// Checks `digest` (quarantining it if corrupt) and keeps it open; the check's result otherwise.
    func open(_ digest: String, in store: CacheStore) -> ObjectCheck {
        if descriptors[digest] != nil { return .intact }
        let (descriptor, check) = store.openVerified(digest)
        if let descriptor { descriptors[digest] = descriptor }
        return check
    }

    /// The path a stage reads an opened object through.
    func path(_ digest: String, in store: CacheStore) -> URL {
        guard VerifiedInputs.hasProc, let fd = descriptors[digest] else { return store.objectPath(digest) }
        return VerifiedInputs.procFDs.appendingPathComponent(String(fd))
    }

    func close() {
        for fd in descriptors.values { Glibc.close(fd) }
        descriptors.removeAll()
    }
}
