import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A full file system must not swallow the record of the failure it caused. The cache keeps a little
/// space in reserve (`<cache>/reserve`, zeros), made by each run while there is room; a worker or runner
/// that cannot write a failure record deletes the reserve and tries once more, so the record, and
/// with it `show`, survives the disk filling up. The next run that finds room makes it again.
extension CacheStore {
    var reserveURL: URL { root.appendingPathComponent("reserve") }
    /// Room for a few failure records (about 2 KiB each) and their temporary files.
    static let reserveBytes = 256 << 10

    /// Makes the reserve if it is missing; returns why it could not be made (a file system already full).
    public func restoreReserve() -> String? {
        if FileIO.regularFileSize(reserveURL) == Int64(CacheStore.reserveBytes) { return nil }
        do { try FileIO.atomicWrite(Data(count: CacheStore.reserveBytes), to: reserveURL) } catch { return "\(error)" }
        return nil
    }

    /// Writes an unsuccessful record (failed or interrupted); when that fails, spends the reserve and
    /// tries once more. The error is the first attempt's when there was no reserve to spend.
    public func writeSpendingReserve(_ record: ActionRecord) throws {
        do { try write(record) } catch {
            guard unlink(reserveURL.path) == 0 else { throw error }
            try write(record)
        }
    }
}
