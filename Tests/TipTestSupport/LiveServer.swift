import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The real `tipgate serve` binary on 127.0.0.1, port 0, with its stdout and stderr kept in
/// files so tests can scan everything it logged.
public final class LiveServer: @unchecked Sendable {
    public let process: Process
    public let url: String
    /// The admin listener's URL, if it is on (`--admin-listen 127.0.0.1:0` is the default here).
    public let adminURL: String?
    public let dataDirectory: URL
    public let certificate: String
    public let logURL: URL
    public let stdoutURL: URL

    /// - Parameter publicKey: a key document for single-key (dev) mode; nil when `extraArgs`
    ///   names the root and keyring.
    /// `tls`: the certificate and key to serve (by default, a fresh one from `makeCertificate`).
    public init(
        dataDirectory: URL, publicKey: String?, workDirectory: URL, extraArgs: [String] = [], env: [String: String] = [:],
        tls: (certificate: String, key: String)? = nil
    ) throws {
        let (cert, key) = try tls ?? makeCertificate(in: workDirectory.appendingPathComponent("tls-\(Int.random(in: 0..<1_000_000))"))
        self.certificate = cert
        self.dataDirectory = dataDirectory
        let tag = Int.random(in: 0..<1_000_000)
        logURL = workDirectory.appendingPathComponent("server-\(tag).stderr")
        stdoutURL = workDirectory.appendingPathComponent("server-\(tag).stdout")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        let p = Process()
        p.executableURL = Repo.binaries.appendingPathComponent("tipgate")
        p.arguments =
            ["serve", "--data", dataDirectory.path, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key]
            + (publicKey.map { ["--public-key", $0] } ?? []) + extraArgs
        p.environment = childEnvironment(env)
        p.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        p.standardError = try FileHandle(forWritingTo: logURL)
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(30)
        var found: String?
        var admin: String?
        while Date() < deadline, p.isRunning {
            let out = (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? ""
            let lines = out.split(separator: "\n")
            found = lines.first(where: { $0.hasPrefix("listening on ") }).map { String($0.dropFirst("listening on ".count)) }
            admin = lines.first(where: { $0.hasPrefix("admin listening on ") }).map { String($0.dropFirst("admin listening on ".count)) }
            if found != nil && admin != nil { break }
            usleep(20_000)
        }
        adminURL = admin
        guard let found else {
            p.terminate()
            throw TestFailure("tipgate did not start: \((try? String(contentsOf: logURL, encoding: .utf8)) ?? "")")
        }
        url = found
    }

    /// POSTs `body` with curl (the real TLS client a witness would use), returning the status
    /// and the response body. `headers` are extra request headers.
    public func post(_ path: String, body: Data, contentType: String? = "application/json", headers: [String] = []) throws -> (Int, String) {
        var args = ["-s", "-o", "-", "-w", "\n%{http_code}", "--cacert", certificate, "-X", "POST", "--data-binary", "@-"]
        if let contentType { args += ["-H", "Content-Type: \(contentType)"] } else { args += ["-H", "Content-Type:"] }
        for h in headers { args += ["-H", h] }
        let r = try run("/usr/bin/curl", args + [url + path], stdin: body)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? -1, lines.dropLast().joined(separator: "\n"))
    }

    public func log() -> String {
        ((try? String(contentsOf: logURL, encoding: .utf8)) ?? "") + ((try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "")
    }

    public var isRunning: Bool { process.isRunning }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
