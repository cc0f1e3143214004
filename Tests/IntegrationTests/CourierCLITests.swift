import Foundation
import Testing
import TipTestSupport

/// The review loop through the real binaries (SECURITY.md §5.1–5.2): a courier pulls over the
/// admin listener, the offline desk imports, backs up and acknowledges, the courier pushes the
/// ack, and the server ends holding nothing while the vault holds every tip.
@Suite(.serialized) struct CourierCLITests {
    func tipdesk(_ args: [String], env: [String: String] = [:]) throws -> RunResult {
        try run(Repo.binaries.appendingPathComponent("tipdesk").path, args, env: childEnvironment(env))
    }

    @Test func pullImportBackupAckPurge() throws {
        let org = try KeyringCLITests.Org("courier")
        let k1 = try org.sign(["renew", "--scripts", org.hashes], "k1.json")
        let data = org.dir.appendingPathComponent("data")
        let server = try LiveServer(dataDirectory: data, publicKey: nil, workDirectory: org.dir, extraArgs: ["--root-key", org.root, "--keyring", k1])
        defer { server.stop() }
        let admin = try #require(server.adminURL)
        for text in ["first", "второй", "uchinchi"] {
            let r = try org.desk.seal(
                ["--server", server.url, "--root-fingerprint", org.fingerprint, "--cacert", server.certificate, "--post"], stdin: Data(text.utf8))
            #expect(r.status == 0, "\(r.stderr)")
        }
        // A courier the server does not know is refused.
        let stranger = org.dir.appendingPathComponent("stranger").path
        #expect(try tipdesk(["courier", "init", "--courier", stranger]).status == 0)
        let refused = try tipdesk([
            "courier", "pull", "--courier", stranger, "--server", admin, "--cacert", server.certificate, "--out",
            org.dir.appendingPathComponent("x.tipgate").path,
        ])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("unauthorized"), "\(refused.stderr)")
        // The registered courier pulls the three sealed tips.
        let courier = org.dir.appendingPathComponent("courier").path
        let pub = org.dir.appendingPathComponent("courier.public.json").path
        #expect(try tipdesk(["courier", "init", "--courier", courier, "--out", pub]).status == 0)
        #expect(try tipgate(["reviewers", "add", "--data", data.path, pub]).status == 0)
        // A bundle name already in use fails before the server marks anything collected.
        let taken = org.dir.appendingPathComponent("taken.tipgate")
        try Data("mine".utf8).write(to: taken)
        let clash = try tipdesk(["courier", "pull", "--courier", courier, "--server", admin, "--cacert", server.certificate, "--out", taken.path])
        #expect(clash.status == 1 && clash.stderr.contains("already exists"), "\(clash.stderr)")
        #expect(try Data(contentsOf: taken) == Data("mine".utf8))
        let bundle = org.dir.appendingPathComponent("pulled.tipgate").path
        let pulled = try tipdesk(["courier", "pull", "--courier", courier, "--server", admin, "--cacert", server.certificate, "--out", bundle])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(pulled.stderr.contains("pulled 3 sealed tips"))
        // Offline: import; an ack is refused until a backup covers the import.
        #expect(try org.desk(["import", bundle]).status == 0)
        let ack = org.dir.appendingPathComponent("ack.signed").path
        let early = try org.desk(["ack", "--out", ack])
        #expect(early.status == 1, "\(early.stderr)")
        #expect(early.stderr.contains("backup"))
        #expect(try org.desk(["backup", "--out", org.dir.appendingPathComponent("vault.backup").path]).status == 0)
        let made = try org.desk(["ack", "--out", ack])
        #expect(made.status == 0, "\(made.stderr)")
        // Until the ack reaches the server, it deletes nothing.
        #expect(try tipgate(["status", "--data", data.path]).stdout.contains("tips held:        3"))
        let pushed = try tipdesk(["courier", "push-ack", "--courier", courier, "--server", admin, "--cacert", server.certificate, ack])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stdout.contains("deleted 3"), "\(pushed.stdout)")
        #expect(try tipgate(["status", "--data", data.path]).stdout.contains("tips held:        0"))
        // The vault holds every tip.
        let bodies = Set(try org.desk.list().compactMap { $0["body"] as? String })
        #expect(bodies == ["first", "второй", "uchinchi"])
        // Pushing the same ack again deletes nothing more.
        let again = try tipdesk(["courier", "push-ack", "--courier", courier, "--server", admin, "--cacert", server.certificate, ack])
        #expect(again.stdout.contains("deleted 0"), "\(again.stdout)\(again.stderr)")
    }
}
