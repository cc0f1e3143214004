import Foundation
import Testing
import TipCore
import TipCrypto
import TipTestSupport

/// Triage, list, search, related, export, ack and the audit log through the real `tipdesk`
/// binary (SECURITY.md §10).
@Suite(.serialized) struct ReviewCLITests {
    /// Seals `docs` to the vault's exported key into a bundle, as a server would export them.
    func bundle(_ docs: [TipDocument], key: String, in dir: URL, instance: String = Random.hex128()) throws -> String {
        let doc = try KeyIdentity.verifiedDocument(Data(contentsOf: URL(fileURLWithPath: key)))
        let tips = try docs.map { d in
            let s = try TipSealer.seal(d, to: doc)
            return SealedTip(id: Random.tipID(), keyID: s.keyID, day: .today, sealed: s.sealed)
        }.sorted { $0.id < $1.id }
        let url = dir.appendingPathComponent("tips-\(Random.hex128().prefix(6)).tipgate")
        try ExportBundle.encode(instance: instance, created: .today, tips: tips) { BLAKE2b.hash($0) }.write(to: url)
        return url.path
    }

    func corpus() throws -> [TipDocument] {
        try CorpusTip.all().map { try TipDocument(body: $0.body, fields: $0.fields, lang: $0.lang) }
    }

    func json(_ r: RunResult) throws -> Any { try JSONSerialization.jsonObject(with: r.stdoutData) }

    @Test func triageListSearchShowAndAudit() throws {
        let dir = scratchDirectory("cli-review")
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        let key = try desk.initialise(in: dir)
        let imported = try desk(["import", try bundle(try corpus(), key: key, in: dir)])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("imported 24 new tips (0 already held)"))
        #expect(imported.stdout.contains("suggested triage (not applied; accept with: tipdesk triage ID --accept-suggestions):"))
        // Nothing is applied: every tip is new, with no category or urgency.
        let listed = try desk.list()
        #expect(listed.count == 24)
        for t in listed {
            let tr = t["triage"] as! [String: Any]
            #expect(tr["status"] as? String == "new" && tr["category"] is NSNull && tr["urgency"] is NSNull)
        }
        let ru = try #require(listed.first { ($0["body"] as! String).hasPrefix("В квартире на третьем этаже") })
        let id = ru["id"] as! String
        let shown = try desk(["show", String(id.prefix(10))])
        #expect(shown.status == 0 && shown.stdout.contains("suggested: urgency critical, category child_at_risk"), "\(shown.stdout)")
        let shownJSON = try json(try desk(["show", "--json", id])) as! [[String: Any]]
        #expect((shownJSON[0]["suggestion"] as? [String: Any])?["category"] as? String == "child_at_risk")
        // Accept the suggestions of one tip; triage another by hand.
        let accepted = try desk(["triage", id, "--accept-suggestions"])
        #expect(accepted.status == 0 && accepted.stdout.contains("category: child_at_risk"), "\(accepted.stdout)\(accepted.stderr)")
        let other = listed.first { ($0["body"] as! String).hasPrefix("Workers at the brick factory") }!["id"] as! String
        let t = try desk([
            "triage", other, "--status", "reviewing", "--category", "Forced labour", "--urgency", "high", "--tag", "brick", "--tag", "north",
            "--assign", "AK", "--note", "called back",
        ])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(t.stderr.contains("changed: status, category, urgency, tags, assignee, notes"))
        #expect(try desk(["triage", other, "--category", "nonsense"]).status == 1)
        // Filters and order.
        let critical = try json(try desk(["list", "--json", "--urgency", "critical"])) as! [[String: Any]]
        #expect(critical.map { $0["id"] as! String } == [id])
        let reviewing = try json(try desk(["list", "--json", "--status", "reviewing", "--tag", "brick"])) as! [[String: Any]]
        #expect(reviewing.map { $0["id"] as! String } == [other])
        let all = try desk.list()
        #expect(all.prefix(2).map { $0["id"] as! String } == [id, other], "urgency first")
        #expect(try desk(["list", "--json"]).stdout == desk(["list", "--json"]).stdout, "stable")
        let text = try desk(["list", "--since", Day.today.text, "--category", "forced_labour"])
        #expect(text.stdout.split(separator: "\n").count == 1 && text.stdout.contains("reviewing"))
        #expect(try desk(["list", "--json", "--until", Day.today.adding(days: -1).text]).stdout == "[]\n")
        // Search across scripts, with and without diacritics.
        func searched(_ q: String) throws -> Set<String> {
            let r = try desk(["search", "--json", q])
            #expect(r.status == 0, "\(r.stderr)")
            return Set((try json(r) as! [[String: Any]]).map { $0["lang"] as! String })
        }
        #expect(try searched("ПАСПОРТА").contains("ru"))
        #expect(try searched("qoyishgan") == ["uz"])
        #expect(try searched("хужжат") == ["uz"])
        #expect(try searched("ҳужжатлари") == ["uz"])
        #expect(try desk(["related", id]).status == 0)
        // Export one tip, on purpose: 0600, never over a file, and in the audit log.
        let out = dir.appendingPathComponent("tip.json").path
        let exported = try desk(["show", id, "--out", out])
        #expect(exported.status == 0 && exported.stderr.contains("plaintext"), "\(exported.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int == 0o600)
        #expect(try desk(["show", id, "--out", out]).status == 1)
        let audit = try json(try desk(["audit", "show", "--json"])) as! [[String: Any]]
        #expect(audit.map { $0["action"] as! String } == ["import", "show", "show", "triage", "triage", "export"])
        let verified = try desk(["audit", "verify"])
        #expect(verified.status == 0 && verified.stdout.hasPrefix("ok: 6 entries, chain intact"), "\(verified.stdout)\(verified.stderr)")
        // One byte of an entry changed in the file: verify fails and names it.
        let script = """
            import sqlite3,sys
            c=sqlite3.connect(sys.argv[1])
            b=bytearray(c.execute('SELECT box FROM audit WHERE seq=4').fetchone()[0])
            b[30]^=0x20
            c.execute('UPDATE audit SET box=? WHERE seq=4',(bytes(b),))
            c.commit()
            """
        #expect(try run("/usr/bin/python3", ["-c", script, dir.appendingPathComponent("vault/vault.sqlite").path]).status == 0)
        let bad = try desk(["audit", "verify"])
        #expect(bad.status == 1 && bad.stderr.contains("entry 4 was altered"), "\(bad.stderr)")
    }

    @Test func ackNeedsABackupAndVerifiesAgainstTheRoot() throws {
        let dir = scratchDirectory("cli-ack")
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        let key = try desk.initialise(in: dir)
        #expect(try desk(["keys", "init-root", "--kdf", "interactive"]).status == 0)
        let root = dir.appendingPathComponent("root.json").path
        #expect(try desk(["keys", "export", "--root", "--out", root]).status == 0)
        let instance = Random.hex128()
        #expect(try desk(["import", try bundle(try corpus().prefix(3).map { $0 }, key: key, in: dir, instance: instance)]).status == 0)
        let ack = dir.appendingPathComponent("ack.json").path
        let refused = try desk(["ack", "--out", ack])
        #expect(refused.status == 1 && refused.stderr.contains("refusing to acknowledge: this vault has never been backed up"), "\(refused.stderr)")
        #expect(refused.stderr.contains("hint: back up first"))
        #expect(try desk(["backup", "--kdf", "interactive", "--out", dir.appendingPathComponent("b1").path]).status == 0)
        let ok = try desk(["ack", "--out", ack])
        #expect(ok.status == 0 && ok.stdout.hasPrefix("acknowledged 3 tips of server \(instance)"), "\(ok.stdout)\(ok.stderr)")
        let doc = try RootIdentity.verifiedDocument(Data(contentsOf: URL(fileURLWithPath: root)))
        let payload = try AckSigner.verify(Data(contentsOf: URL(fileURLWithPath: ack)), pin: .key(doc.publicKey))
        #expect(payload.tips.count == 3 && payload.instance == instance)
        #expect(try desk.list().allSatisfy { $0["acked"] as? Bool == true })
        let v = try desk(["audit", "verify", "--ack", ack])
        #expect(v.status == 0 && v.stdout.contains("anchor: entry") && v.stdout.contains("ack heads: 1 found"), "\(v.stdout)\(v.stderr)")
        // A second import the same day; --without-backup acknowledges it anyway, with a warning.
        #expect(try desk(["import", try bundle(try corpus().suffix(2).map { $0 }, key: key, in: dir, instance: instance)]).status == 0)
        let ack2 = dir.appendingPathComponent("ack2.json").path
        #expect(try desk(["ack", "--out", ack2]).status == 1)
        let forced = try desk(["ack", "--out", ack2, "--without-backup"])
        #expect(forced.status == 0 && forced.stderr.contains("warning: tips were imported after the last backup"), "\(forced.stderr)")
        #expect(try AckSigner.verify(Data(contentsOf: URL(fileURLWithPath: ack2)), pin: .key(doc.publicKey)).tips.count == 2)
    }

    func rootFingerprint(_ desk: TipdeskCLI) throws -> String {
        let line = try desk(["keys", "list"]).stdout.split(separator: "\n").first { $0.hasPrefix("root ") }!
        return String(line[line.range(of: "root:")!.lowerBound...])
    }

    /// The seized vault, through the binary: after import, triage, search, show, backup and
    /// ack, no file under the vault directory holds a word of a tip or a note.
    @Test func aSeizedVaultShowsNoText() throws {
        let dir = scratchDirectory("cli-seized")
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        let key = try desk.initialise(in: dir)
        #expect(try desk(["keys", "init-root", "--kdf", "interactive"]).status == 0)
        let canaries = ["WQZCANARYONE", "ЩЁКАНАРЕЙКА", "GʻALLAKANAREYKA", "WQZCANARYFIELD", "WQZCANARYNOTE", "WQZPARTNER", "WQZORG"]
        let docs = [
            try TipDocument(body: "at the depot \(canaries[0]) and \(canaries[1])", fields: ["where": canaries[3]], lang: "ru"),
            try TipDocument(body: "\(canaries[2]) bozorda", lang: "uz"),
        ]
        #expect(try desk(["import", try bundle(docs, key: key, in: dir)]).status == 0)
        let id = try desk.list()[0]["id"] as! String
        #expect(try desk(["triage", id, "--note", "met \(canaries[4])", "--status", "reviewing"]).status == 0)
        #expect(try desk(["search", canaries[0].lowercased()]).status == 0)
        #expect(try desk(["show", id]).stdout.contains(canaries[4]))
        // Forwarding (SECURITY.md §11.1): who the organization works with is as secret as its tips.
        #expect(try desk(["keys", "renew", "--out", dir.appendingPathComponent("k1.json").path]).status == 0)
        #expect(try desk(["keys", "forwarding-key", "--kdf", "interactive", "--out", dir.appendingPathComponent("k2.json").path]).status == 0)
        let fp = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: key))) as! [String: Any])["fingerprint"] as! String
        let added = try desk([
            "partners", "add", canaries[5], "--public-key", key, "--fingerprint", fp, "--delivery", "outbox:\(dir.appendingPathComponent("out").path)",
        ])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(
            try desk(["orgs", "add", canaries[6], "--keyring", dir.appendingPathComponent("k2.json").path, "--fingerprint", try rootFingerprint(desk)]).status
                == 0)
        let depot = try #require(try desk.list().first { ($0["body"] as? String)?.contains("depot") == true }?["id"] as? String)
        let fwd = try desk(["forward", depot, "--to", canaries[5], "--redact-text", "depot", "--note", "re \(canaries[4])"])
        #expect(fwd.status == 0, "\(fwd.stderr)")
        #expect(try desk(["backup", "--kdf", "interactive", "--out", dir.appendingPathComponent("b").path]).status == 0)
        #expect(try desk(["ack", "--out", dir.appendingPathComponent("ack.json").path]).status == 0)
        let vault = dir.appendingPathComponent("vault")
        let files = FileManager.default.enumerator(atPath: vault.path)!.compactMap { $0 as? String }
            .map { vault.appendingPathComponent($0) }.filter { !$0.hasDirectoryPath && FileManager.default.fileExists(atPath: $0.path) }
        #expect(files.count >= 5)
        for file in files {
            guard let data = FileManager.default.contents(atPath: file.path) else { continue }
            for c in canaries {
                #expect(data.range(of: Data(c.utf8)) == nil, "\(c) in \(file.lastPathComponent)")
                #expect(data.range(of: Data(c.lowercased().utf8)) == nil, "\(c) in \(file.lastPathComponent)")
            }
        }
    }
}
