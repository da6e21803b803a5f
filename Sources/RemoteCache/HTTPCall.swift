import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request run to completion: a body sent from memory or streamed from a file, a response body
/// kept in memory or streamed into a file. URLSession (libcurl underneath on Linux: TLS with the system's
/// trust store, proxies) drives it; this class is its delegate and waits for the end.
// @unchecked Sendable: its state is touched only on the session's serial delegate queue, and read by
// `perform` after the semaphore signal that ends the transfer (which orders those writes before the read).
final class HTTPCall: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    enum Body { case none, data(Data), file(URL) }
    enum Sink { case memory, file(FileHandle) }

    struct Response {
        let status: Int
        let body: Data
        let contentLength: Int64?
    }

    private let sink: Sink
    private let progress: (@Sendable (Int64) -> Void)?
    private let done = DispatchSemaphore(value: 0)
    private var status = 0
    private var contentLength: Int64?
    private var body = Data()
    private var received: Int64 = 0
    private var failure: Error?

    private init(sink: Sink, progress: (@Sendable (Int64) -> Void)?) {
        self.sink = sink
        self.progress = progress
    }

    /// The response, or the transport's error (a URLError) when none came. A response body goes to the
    /// sink only for a 2xx status; an error page is kept in memory for the message.
    static func perform(_ request: URLRequest, body: Body = .none, sink: Sink = .memory, idleTimeout: TimeInterval = 60,
                        progress: (@Sendable (Int64) -> Void)? = nil) throws -> Response {
        let call = HTTPCall(sink: sink, progress: progress)
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = idleTimeout
        config.timeoutIntervalForResource = 7 * 24 * 3600
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: config, delegate: call, delegateQueue: queue)
        let task: URLSessionTask
        switch body {
        case .none: task = session.dataTask(with: request)
        case .data(let data): task = session.uploadTask(with: request, from: data)
        case .file(let url): task = session.uploadTask(with: request, fromFile: url)
        }
        task.resume()
        call.done.wait()
        session.finishTasksAndInvalidate()
        if let failure = call.failure { throw failure }
        return Response(status: call.status, body: call.body, contentLength: call.contentLength)
    }

    private var toSink: Bool { (200..<300).contains(status) }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        status = (response as? HTTPURLResponse)?.statusCode ?? 0
        contentLength = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard toSink, case .file(let handle) = sink else { body.append(data); return }
        do {
            try handle.write(contentsOf: data)
            received += Int64(data.count)
            progress?(received)
        } catch {
            failure = error
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didSendBodyData bytesSent: Int64, totalBytesSent: Int64,
                    totalBytesExpectedToSend: Int64) {
        progress?(totalBytesSent)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error, failure == nil { failure = error }
        if failure == nil, status == 0 { failure = URLError(.badServerResponse) }
        done.signal()
    }
}
