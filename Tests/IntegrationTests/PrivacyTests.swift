import Foundation
import Testing
import TipTestSupport

/// Non-negotiables 1 and 3, measured: after real traffic, no canary from a tip body or from
/// identifying request headers is anywhere on the server's disk or in its output.
@Suite struct CanaryTests {
    @Test func noCanaryOnDiskOrInLogs() throws {
        let dir = scratchDirectory("canary")
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        let pub = try desk.initialise(in: dir)
        let data = dir.appendingPathComponent("data")
        let server = try LiveServer(dataDirectory: data, publicKey: pub, workDirectory: dir, extraArgs: ["--log-level", "info"])
        let body = "CANARYBODY7f3a"
        let agent = "CANARYAGENT91c2"
        let forwarded = "203.0.113.77"
        let referer = "CANARYREF44"
        let identifying = ["User-Agent: \(agent)", "X-Forwarded-For: \(forwarded)", "X-Real-IP: \(forwarded)", "Referer: https://\(referer)/"]
        for i in 0..<5 {
            let sealed = try desk.seal(["--public-key", pub, "--field", "contact=\(body)-field"], stdin: Data("\(body) tip \(i)".utf8))
            let (status, _) = try server.post("/api/v1/tips", body: sealed.stdoutData, headers: identifying)
            #expect(status == 201)
        }
        // Bad requests carrying the canary must not echo or log it either.
        for bad in [#"{"v":1,"key_id":"\#(body)","sealed":"AAAA"}"#, body, #"{"\#(body)":1}"#] {
            let (status, response) = try server.post("/api/v1/tips", body: Data(bad.utf8), headers: identifying)
            #expect((400..<500).contains(status))
            #expect(!response.contains(body))
        }
        server.stop()
        var scanned = 0
        let canaries = [body, agent, forwarded, referer]
        let files = FileManager.default.enumerator(atPath: data.path)!.compactMap { $0 as? String }
        #expect(files.contains("tipgate.sqlite"))
        for name in files {
            let content = try Data(contentsOf: data.appendingPathComponent(name))
            scanned += content.count
            for c in canaries { #expect(content.range(of: Data(c.utf8)) == nil, "\(c) found in \(name)") }
        }
        let log = server.log()
        for c in canaries { #expect(!log.contains(c), "\(c) found in the server's output") }
        // And the log has no line per submission at the default level: only start-up lines.
        // (both listeners: ours, and Hummingbird's own start-up line for each).
        for line in log.split(separator: "\n") {
            #expect(line.contains("listening on"), "an unexpected log line: \(line)")
        }
        #expect(log.split(separator: "\n").count <= 4, "\(log)")
        #expect(scanned > 0)
    }
}

@Suite struct CLIErrorTests {
    @Test func wrongPassphraseGivesErrorAndHint() throws {
        let dir = scratchDirectory("cli")
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        _ = try desk.initialise(in: dir)
        let r = try desk(["list"], env: ["TIPDESK_PASSPHRASE": "a wrong passphrase"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("tipdesk: error: wrong passphrase\n"))
        #expect(r.stderr.contains("tipdesk: hint: "))
    }

    @Test func missingVaultGivesHint() throws {
        let dir = scratchDirectory("cli")
        let r = try TipdeskCLI(vault: dir.appendingPathComponent("none"))(["list"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("tipdesk: error: no vault at"))
        #expect(r.stderr.contains("tipdesk: hint: create one with: tipdesk init"))
    }

    @Test func corruptBundleImportsNothing() throws {
        let dir = scratchDirectory("cli")
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        _ = try desk.initialise(in: dir)
        let bad = dir.appendingPathComponent("bad.tipgate")
        try Data("{\"format\":\"tipgate-bundle\"}\n".utf8).write(to: bad)
        let r = try desk(["import", bad.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("is not a valid bundle"))
        #expect(try desk.list().isEmpty)
    }

    @Test func shortPassphraseRefusedAtInit() throws {
        let dir = scratchDirectory("cli")
        var desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        desk.passphrase = "short"
        let r = try desk(["init", "--kdf", "interactive"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("too short"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("vault/keys").path))
    }

    @Test func tipgateMissingSettingIsClear() throws {
        let r = try tipgate(["serve", "--listen", "127.0.0.1:0"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("tipgate: error: missing setting data"))
        #expect(r.stderr.contains("tipgate: hint:"))
    }
}
