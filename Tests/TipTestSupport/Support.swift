import Foundation
import TipCore
import TipCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// Paths in the repository, found from this file (tests read vectors from the source tree).
public enum Repo {
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static var vectors: URL { root.appendingPathComponent("Tests/Vectors") }

    /// The directory holding the built executables (next to the test bundle).
    public static var binaries: URL {
        var exe = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
        while exe.path != "/" && !FileManager.default.fileExists(atPath: exe.appendingPathComponent("tipgate").path) {
            exe.deleteLastPathComponent()
        }
        return exe
    }
}

/// One test vector (Tests/Vectors/generate.py): a header of `name: value` lines, a blank
/// line, then the payload.
public struct Vector: Sendable, CustomStringConvertible {
    public let name: String
    public let headers: [String: String]
    public let payload: Data

    public var expect: String { headers["expect"]! }
    public var description: String { name }

    public static func load(_ kind: String) -> [Vector] {
        let dir = Repo.vectors.appendingPathComponent(kind)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".txt") }.sorted().map { name in
            let data = try! Data(contentsOf: dir.appendingPathComponent(name))
            let split = data.range(of: Data("\n\n".utf8))!
            var headers = [String: String]()
            for line in String(decoding: data[..<split.lowerBound], as: UTF8.self).split(separator: "\n") {
                let kv = line.split(separator: ":", maxSplits: 1)
                headers[String(kv[0])] = String(kv[1]).trimmingCharacters(in: .whitespaces)
            }
            return Vector(name: String(name.dropLast(4)), headers: headers, payload: Data(data[split.upperBound...]))
        }
    }
}

/// The committed test-only key (Tests/Vectors/test-only-key.json). Its secret is public.
public enum TestKey {
    public static func pair() -> IntakeKeyPair {
        let json =
            try! JSONSerialization.jsonObject(
                with: Data(contentsOf: Repo.vectors.appendingPathComponent("test-only-key.json"))) as! [String: String]
        let pk = Array(Data(base64Encoded: json["public_key"]!)!)
        let sk = SecureBytes(copying: Data(base64Encoded: json["secret_key"]!)!)
        return try! IntakeKeyPair(publicKey: pk, secretKey: sk)
    }

    public static var documentPath: String { Repo.vectors.appendingPathComponent("test-only-key.public.json").path }
}

/// A fresh private directory under the system temp dir.
public func scratchDirectory(_ label: String = "tipgate-test") -> URL {
    let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("\(label)-\(Random.hex128().prefix(12))")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    return url
}

/// A self-signed P-256 certificate for 127.0.0.1 made with the openssl CLI.
public func makeCertificate(in dir: URL) throws -> (cert: String, key: String) {
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let cert = dir.appendingPathComponent("cert.pem").path
    let key = dir.appendingPathComponent("key.pem").path
    let r = try run(
        "/usr/bin/openssl",
        [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-keyout", key, "-out", cert, "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
    guard r.status == 0 else { throw TestFailure("openssl failed: \(r.stderr)") }
    return (cert, key)
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

public struct RunResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public let stdoutData: Data
}

/// Runs a program to completion, feeding `stdin`, and collects its output.
@discardableResult
public func run(_ path: String, _ args: [String], env: [String: String]? = nil, stdin: Data = Data()) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if let env { p.environment = env }
    let dir = scratchDirectory("run")
    defer { try? FileManager.default.removeItem(at: dir) }
    let inURL = dir.appendingPathComponent("in")
    let outURL = dir.appendingPathComponent("out")
    let errURL = dir.appendingPathComponent("err")
    try stdin.write(to: inURL)
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    p.standardInput = try FileHandle(forReadingFrom: inURL)
    p.standardOutput = try FileHandle(forWritingTo: outURL)
    p.standardError = try FileHandle(forWritingTo: errURL)
    try p.run()
    p.waitUntilExit()
    let out = try Data(contentsOf: outURL)
    return RunResult(
        status: p.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
        stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self), stdoutData: out)
}

/// The environment tests give child processes: the parent's, minus anything that could point
/// them at a real vault, plus `extra`.
public func childEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    for k in env.keys where k.hasPrefix("TIPDESK_") || k.hasPrefix("TIPGATE_") { env[k] = nil }
    env.merge(extra) { $1 }
    return env
}
