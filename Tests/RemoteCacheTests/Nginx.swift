import DatasetsTestSupport
import Foundation
import SmokeProjectSupport
#if canImport(Glibc)
import Glibc
#endif

/// A real nginx (Debian's package) serving a remote on 127.0.0.1 at a free port, configured as README's
/// "Sharing results" says: WebDAV PUT, `create_full_put_path on`, no body size limit. Optionally with
/// a bearer token, TLS with a self-signed certificate, or a request rate limit (to interrupt a push
/// part-way). Its files are under `root`; `stop()` (or deinit) ends it.
final class Nginx {
    struct Options {
        var token: String?
        var tls = false
        /// Requests per second; excess requests wait (nginx `limit_req` with a large burst).
        var requestsPerSecond: Int?
    }

    let directory: URL
    let port: UInt16
    let options: Options
    private let process = Process()

    /// The served files: `ac/` and `cas/` appear here.
    var root: URL { directory.appendingPathComponent("www/cache") }
    var url: String { "\(options.tls ? "https" : "http")://127.0.0.1:\(port)/cache" }
    var accessLog: String { (try? String(contentsOf: directory.appendingPathComponent("access.log"), encoding: .utf8)) ?? "" }

    static var binary: URL? {
        ["/usr/sbin/nginx", "/usr/local/sbin/nginx"].map(URL.init(fileURLWithPath:)).first { FileManager.default.isExecutableFile(atPath: $0.path) }
            ?? CommandRunner.find(["nginx"])
    }

    init(_ options: Options = Options()) throws {
        guard let binary = Nginx.binary else { throw SmokeFailure(message: "nginx is not installed (make deps installs it)") }
        self.options = options
        directory = try temporaryDirectory("bnrepro-nginx")
        port = try Nginx.freePort()
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("www/cache"), withIntermediateDirectories: true)
        if options.tls { try makeCertificate() }
        try configuration().write(to: directory.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        process.executableURL = binary
        process.arguments = ["-p", directory.path, "-c", directory.appendingPathComponent("nginx.conf").path,
                             "-e", directory.appendingPathComponent("error.log").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try waitUntilListening()
    }

    deinit { stop() }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    private func configuration() -> String {
        let d = directory.path
        let auth = options.token.map { "if ($http_authorization != \"Bearer \($0)\") { return 401; }" } ?? ""
        let tls = options.tls ? "ssl_certificate \(d)/cert.pem; ssl_certificate_key \(d)/key.pem;" : ""
        let zone = options.requestsPerSecond.map { "limit_req_zone $binary_remote_addr zone=slow:1m rate=\($0)r/s;" } ?? ""
        let limit = options.requestsPerSecond == nil ? "" : "limit_req zone=slow burst=100000;"
        return """
        daemon off;
        master_process off;
        worker_processes 1;
        pid \(d)/nginx.pid;
        error_log \(d)/error.log;
        events { worker_connections 256; }
        http {
            access_log \(d)/access.log;
            client_body_temp_path \(d)/body;
            proxy_temp_path \(d)/proxy;
            fastcgi_temp_path \(d)/fastcgi;
            uwsgi_temp_path \(d)/uwsgi;
            scgi_temp_path \(d)/scgi;
            \(zone)
            server {
                listen 127.0.0.1:\(port)\(options.tls ? " ssl" : "");
                \(tls)
                root \(d)/www;
                location /cache/ {
                    \(auth)
                    \(limit)
                    dav_methods PUT;
                    create_full_put_path on;
                    dav_access user:rw group:r all:r;
                    client_max_body_size 0;
                }
            }
        }
        """
    }

    private func makeCertificate() throws {
        let result = try CommandRunner.run(URL(fileURLWithPath: "/usr/bin/openssl"),
                                           ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                                            "-addext", "subjectAltName=IP:127.0.0.1",
                                            "-keyout", directory.appendingPathComponent("key.pem").path,
                                            "-out", directory.appendingPathComponent("cert.pem").path])
        guard result.status == 0 else { throw SmokeFailure(message: "openssl could not make a certificate: \(result.stderr)") }
    }

    private func waitUntilListening() throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard process.isRunning else { break }
            if Nginx.accepts(port) { return }
            usleep(50_000)
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
        throw SmokeFailure(message: "nginx did not start on port \(port): \(log)")
    }

    static func accepts(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = loopback(port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port the kernel just handed out and took back: free, short of a race with another process.
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = loopback(0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw SmokeFailure(message: "cannot find a free port") }
        return UInt16(bigEndian: address.sin_port)
    }

    private static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
