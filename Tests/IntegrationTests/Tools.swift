import Foundation
import TipTestSupport

/// Runs the real `tipdesk` binary with a scratch vault and a test passphrase.
struct TipdeskCLI {
    let vault: URL
    var passphrase = "integration passphrase"

    func callAsFunction(_ args: [String], stdin: Data = Data(), env: [String: String] = [:]) throws -> RunResult {
        try run(
            Repo.binaries.appendingPathComponent("tipdesk").path, args + ["--vault", vault.path],
            env: childEnvironment(["TIPDESK_PASSPHRASE": passphrase].merging(env) { $1 }), stdin: stdin)
    }

    /// `seal` takes no vault.
    func seal(_ args: [String], stdin: Data) throws -> RunResult {
        try run(Repo.binaries.appendingPathComponent("tipdesk").path, ["seal"] + args, env: childEnvironment(), stdin: stdin)
    }

    /// Creates the vault and writes its public key document; returns the document's path.
    func initialise(in dir: URL) throws -> String {
        let r = try self(["init", "--kdf", "interactive"])
        guard r.status == 0 else { throw TestFailure("tipdesk init failed: \(r.stderr)") }
        let pub = dir.appendingPathComponent("org.public.json").path
        let e = try self(["keys", "export", "--out", pub])
        guard e.status == 0 else { throw TestFailure("tipdesk keys export failed: \(e.stderr)") }
        return pub
    }

    /// `list --json`, parsed.
    func list() throws -> [[String: Any]] {
        let r = try self(["list", "--json"])
        guard r.status == 0 else { throw TestFailure("tipdesk list failed: \(r.stderr)") }
        return try JSONSerialization.jsonObject(with: r.stdoutData) as! [[String: Any]]
    }
}

func tipgate(_ args: [String]) throws -> RunResult {
    try run(Repo.binaries.appendingPathComponent("tipgate").path, args, env: childEnvironment())
}

/// The corpus of sample tips in six languages (copied from shared/corpus/tips.jsonl).
struct CorpusTip {
    let lang: String
    let body: String
    let fields: [String: String]

    static func all() throws -> [CorpusTip] {
        let text = try String(contentsOf: Repo.root.appendingPathComponent("Tests/Fixtures/corpus-tips.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let o = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return CorpusTip(lang: o["lang"] as! String, body: o["body"] as! String, fields: o["fields"] as? [String: String] ?? [:])
        }
    }
}
