import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP(S) GET that appends the body to an open file, optionally asking for the bytes from `offset`
/// on (HTTP Range). Uses URLSession, which on Linux is libcurl underneath (TLS, redirects, proxies).
/// A class because it is URLSession's delegate and owns the wait for completion.
// @unchecked Sendable: its state is touched only on the serial delegate queue, and read by `run` after
// the semaphore signal that ends the transfer (which orders those writes before the read).
final class HTTPTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    enum Outcome {
        /// The body arrived completely; `restarted` when the server ignored the Range request.
        case complete(restarted: Bool)
        /// Transport failure or a cut-off body: worth retrying (with resumption).
        case transient(String)
        /// A status that retrying will not change (404, 403, ...).
        case permanent(status: Int)
        /// The partial file could not be written (a full disk): retrying would not help either.
        case cannotWrite(String)
    }

    private let file: FileHandle
    private let offset: Int64
    private let progress: (Int64, Int64?) -> Void
    private let done = DispatchSemaphore(value: 0)
    // Written by URLSession's delegate queue, read after `done` is signalled.
    private var status = 0
    private var expectedBody: Int64?
    private var received: Int64 = 0
    private var restarted = false
    private var failure: String?
    private var writeError: String?

    private init(file: FileHandle, offset: Int64, progress: @escaping (Int64, Int64?) -> Void) {
        self.file = file
        self.offset = offset
        self.progress = progress
    }

    /// Runs the request to completion (or timeout). `progress` gets (bytes in the file, total size if known).
    static func run(url: URL, appendingTo file: FileHandle, offset: Int64, timeout: TimeInterval,
                    progress: @escaping (Int64, Int64?) -> Void) -> Outcome {
        let transfer = HTTPTransfer(file: file, offset: offset, progress: progress)
        let config = URLSessionConfiguration.ephemeral
        // Idle timeout: a stalled connection fails after `timeout` seconds without data. Whole seconds,
        // at least 1: swift-corelibs-foundation truncates fractions, and 0.5 became an immediate timeout.
        let seconds = max(1, timeout.rounded(.up))
        config.timeoutIntervalForRequest = seconds
        config.timeoutIntervalForResource = 7 * 24 * 3600
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: config, delegate: transfer, delegateQueue: queue)
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: seconds)
        if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
        session.dataTask(with: request).resume()
        transfer.done.wait()
        session.finishTasksAndInvalidate()
        return transfer.outcome()
    }

    private func outcome() -> Outcome {
        if let w = writeError { return .cannotWrite(w) }
        if let f = failure { return .transient(f) }
        if status == 200 || status == 206 {
            if let expected = expectedBody, received != expected {
                return .transient("the connection closed after \(received) of \(expected) bytes")
            }
            return .complete(restarted: restarted)
        }
        if status == 408 || status == 429 || status >= 500 { return .transient("HTTP \(status)") }
        return .permanent(status: status)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let http = response as? HTTPURLResponse
        status = http?.statusCode ?? 0
        let length = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
        expectedBody = length
        var total: Int64? = nil
        if status == 206 {
            // Content-Range "bytes START-END/TOTAL": the server must resume exactly where our file ends.
            let range = http?.value(forHTTPHeaderField: "Content-Range") ?? ""
            let start = Int64(range.drop { !$0.isNumber }.prefix { $0.isNumber }) ?? -1
            guard start == offset else {
                failure = "the server resumed at byte \(start) instead of \(offset) (Content-Range '\(range)')"
                completionHandler(.cancel)
                return
            }
            total = Int64(range.split(separator: "/").last ?? "")
        } else if status == 200 {
            if offset > 0 {
                // The server ignored the Range header and sends the whole file: start the file over.
                restarted = true
                do { try file.truncate(atOffset: 0) } catch { writeError = "cannot truncate: \(error)" }
            }
            total = length
        } else {
            completionHandler(.cancel)
            return
        }
        progress(restarted ? 0 : offset, total)
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard writeError == nil else { return }
        do {
            try file.write(contentsOf: data)
            received += Int64(data.count)
            let base = restarted ? 0 : offset
            let total = expectedBody.map { base + $0 }
            progress(base + received, total)
        } catch {
            writeError = "cannot write the download: \(error)"
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error = error, failure == nil, status == 200 || status == 206 || status == 0 {
            failure = HTTPTransfer.explain(error)
        }
        done.signal()
    }

    /// URLError's own text on Linux is only a code number; say what happened instead.
    static func explain(_ error: Error) -> String {
        guard let e = error as? URLError else { return "\(error)" }
        switch e.code {
        case .cannotConnectToHost: return "could not connect to the server (connection refused)"
        case .cannotFindHost, .dnsLookupFailed: return "the host name could not be resolved"
        case .timedOut: return "timed out waiting for data"
        case .networkConnectionLost: return "the connection was lost mid-transfer"
        case .notConnectedToInternet: return "no network connection"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate:
            return "the TLS connection could not be established (\(e.code.rawValue))"
        default: return "URL error \(e.code.rawValue)"
        }
    }
}
