import Foundation

/// Tests/tools/socks5.py on 127.0.0.1, port 0: a stand-in for Tor's SocksPort that logs each
/// CONNECT target, so a test can tell a request went through it and with which name.
public final class SocksProxy: @unchecked Sendable {
    public let process: Process
    public let address: String
    let log: URL

    public init(workDirectory: URL) throws {
        log = workDirectory.appendingPathComponent("socks-\(Int.random(in: 0..<1_000_000)).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let out = Pipe()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [Repo.root.appendingPathComponent("Tests/tools/socks5.py").path, log.path]
        p.standardOutput = out
        try p.run()
        process = p
        // The first line is "listening PORT".
        var line = Data()
        while !line.contains(0x0a) {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw TestFailure("the SOCKS proxy did not start") }
            line.append(chunk)
        }
        guard let port = String(decoding: line, as: UTF8.self).split(separator: " ").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        else { throw TestFailure("the SOCKS proxy said \(String(decoding: line, as: UTF8.self))") }
        address = "127.0.0.1:\(port)"
    }

    /// Every CONNECT target so far, as "host:port".
    public var targets: [String] {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// SIGKILL: a child of the test runner inherits its blocked signals, SIGTERM among them.
    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
