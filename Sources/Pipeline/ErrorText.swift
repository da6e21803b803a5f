import AtomicIO
import Foundation

/// An error as one line a user can act on. Foundation's file errors print as a dump of their user info;
/// this names the file and the errno in words instead (with the space left when the disk is full).
public enum ErrorText {
    public static func describe(_ error: Error) -> String {
        guard let cocoa = error as? CocoaError, let path = cocoa.filePath ?? cocoa.url?.path else { return "\(error)" }
        let writing = (CocoaError.Code.fileWriteUnknown.rawValue...CocoaError.Code.fileWriteVolumeReadOnly.rawValue).contains(cocoa.code.rawValue)
        let what = writing ? "cannot write" : "cannot read"
        if let code = posixCode(cocoa) { return "\(path): " + WriteFailure.describe(what, code: code, path: path) }
        return "\(path): \(what) (\(cocoa.localizedDescription))"
    }

    /// The errno under a Foundation error, if it carries one.
    static func posixCode(_ error: CocoaError) -> Int32? {
        if let posix = error.underlying as? POSIXError { return posix.code.rawValue }
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return Int32(underlying.code)
        }
        if error.code == .fileWriteOutOfSpace { return ENOSPC }
        return nil
    }
}
