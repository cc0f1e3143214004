import Foundation
import Testing
import TipCore
import TipCrypto
import TipTestSupport

/// Forwarding between two organizations through the real binaries (SECURITY.md §11): each has
/// its own vault, keys and live tipgate on loopback. A forwards a redacted tip to B through B's
/// tipgate via the courier; B pulls, imports and sees the verified sender.
@Suite(.serialized) struct ForwardingCLITests {
    static let phrase = "Rustam Karimov"
    static let place = "Kanal ko'chasi 4, brick factory"
    static let phone = "+998 90 123 45 67"
    static let body = "Workers at the brick factory are locked in at night. The foreman \(phrase) took their passports. rustam karimov also beats them."

    func tipdesk(_ args: [String]) throws -> RunResult {
        try run(Repo.binaries.appendingPathComponent("tipdesk").path, args, env: childEnvironment())
    }

    /// An organization with a root, a keyring certifying its forwarding key, and a live tipgate.
    struct LiveOrg {
        let org: KeyringCLITests.Org
        let keyring: String
        let server: LiveServer

        init(_ label: String, serverArgs: [String] = []) throws {
            org = try KeyringCLITests.Org(label)
            _ = try org.sign(["renew", "--scripts", org.hashes], "k1.json")
            keyring = try org.sign(["forwarding-key", "--kdf", "interactive"], "k2.json")
            server = try LiveServer(
                dataDirectory: org.dir.appendingPathComponent("data"), publicKey: nil, workDirectory: org.dir,
                extraArgs: ["--root-key", org.root, "--keyring", keyring] + serverArgs)
        }

        var desk: TipdeskCLI { org.desk }

        /// Exports what the server holds and imports it into the vault; returns the bundle.
        func pullAndImport(_ name: String, expect: String? = nil) throws -> Data {
            let bundle = org.dir.appendingPathComponent(name).path
            let e = try tipgate(["export", "--data", server.dataDirectory.path, "--out", bundle, "--all"])
            guard e.status == 0 else { throw TestFailure("export: \(e.stderr)") }
            let i = try desk(["import", bundle])
            guard i.status == 0 else { throw TestFailure("import: \(i.stderr)") }
            if let expect { #expect(i.stdout.contains(expect), "\(i.stdout)") }
            return try Data(contentsOf: URL(fileURLWithPath: bundle))
        }
    }

    @Test func forwardThroughThePartnersTipgate() throws {
        let a = try LiveOrg("fwd-a")
        defer { a.server.stop() }
        // B asks for proof of work, so the courier must solve it.
        let b = try LiveOrg("fwd-b", serverArgs: ["--pow-difficulty", "8"])
        defer { b.server.stop() }

        // A witness reports to A.
        let sealed = try a.desk.seal(
            [
                "--server", a.server.url, "--root-fingerprint", a.org.fingerprint, "--cacert", a.server.certificate, "--post",
                "--field", "where=\(Self.place)", "--field", "contact=\(Self.phone)", "--field", "kind=labour", "--lang", "en",
            ],
            stdin: Data(Self.body.utf8))
        #expect(sealed.status == 0, "\(sealed.stderr)")
        _ = try a.pullAndImport("a.tipgate")
        let id = try #require(try a.desk.list().first?["id"] as? String)
        #expect(try a.desk(["triage", id, "--category", "forced_labour", "--urgency", "high"]).status == 0)

        // A partner key whose fingerprint does not match is refused.
        let wrong = try a.desk(["partners", "add", "B", "--keyring", b.keyring, "--fingerprint", a.org.fingerprint, "--delivery", "tipgate:\(b.server.url)"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("not signed by the root fingerprint you confirmed"), "\(wrong.stderr)")
        #expect(try a.desk(["partners", "list"]).stdout.isEmpty, "a refused partner was stored")
        let added = try a.desk(
            [
                "partners", "add", "B", "--keyring", b.keyring, "--fingerprint", b.org.fingerprint, "--category", "forced_labour",
                "--delivery", "tipgate:\(b.server.url)",
            ])
        #expect(added.status == 0, "\(added.stderr)")
        // Suggested routing: the tip's category is one B accepts.
        let shown = try a.desk(["show", id])
        #expect(shown.stdout.contains("partner:  B accepts forced_labour"), "\(shown.stdout)")

        let outbox = a.org.dir.appendingPathComponent("outbox")
        let fwd = try a.desk(
            ["forward", id, "--to", "B", "--redact", "where", "--redact-text", Self.phrase, "--note", "please act quickly", "--outbox", outbox.path])
        #expect(fwd.status == 0, "\(fwd.stderr)")
        #expect(fwd.stdout.contains("fields withheld: contact, where"), "\(fwd.stdout)")

        // The courier delivers it to B's tipgate, solving B's proof of work.
        let delivered = try tipdesk(["courier", "deliver", outbox.path, "--cacert", b.server.certificate])
        #expect(delivered.status == 0, "\(delivered.stderr)")
        #expect(delivered.stdout.contains("delivered 1 of 1"), "\(delivered.stdout)")
        #expect(delivered.stdout.contains("to 127.0.0.1"), "\(delivered.stdout)")
        // A delivered parcel is deleted: it names the partner's server.
        #expect(try FileManager.default.contentsOfDirectory(atPath: outbox.path).isEmpty)

        // B pulls and imports. Nothing B decrypts holds what A withheld (RedactionTests checks
        // the whole signed forward too).
        _ = try b.pullAndImport("b.tipgate", expect: "1 of them is a forward from another organization")
        let bList = try b.desk.list()
        let bid = try #require(bList.first?["id"] as? String)
        #expect(bList.first?["forwarded"] as? Bool == true)
        #expect(try b.desk(["list"]).stdout.contains("[forward] Workers at the brick factory"))
        let bShow = try b.desk(["show", bid, "--json"])
        #expect(bShow.status == 0, "\(bShow.stderr)")
        for secret in [Self.phrase, "rustam karimov", Self.place, Self.phone] {
            #expect(!bShow.stdout.contains(secret), "B sees \(secret)")
        }
        #expect(bShow.stdout.contains("The foreman █ took their passports. █ also beats them."), "\(bShow.stdout)")
        #expect(bShow.stdout.contains("labour"))
        let forward = try #require((try JSONSerialization.jsonObject(with: Data(bShow.stdout.utf8)) as? [[String: Any]])?.first?["forward"] as? [String: Any])
        #expect(forward["status"] as? String == "unknown_org")

        // Until B knows A, the forward shows a clear warning; then it verifies.
        let unknown = try b.desk(["show", bid])
        #expect(
            unknown.stdout.contains("WARNING: a forward that does not verify (unknown_org): it comes from an organization this vault does not know"),
            "\(unknown.stdout)")
        #expect(unknown.stdout.contains("UNVERIFIED note: please act quickly"), "\(unknown.stdout)")
        // The fingerprint to add comes from the organization, never from the forward itself.
        #expect(!unknown.stdout.contains(a.org.fingerprint), "\(unknown.stdout)")
        #expect(try b.desk(["orgs", "add", "A", "--keyring", a.keyring, "--fingerprint", a.org.fingerprint]).status == 0)
        let verified = try b.desk(["show", bid])
        #expect(verified.stdout.contains("from:     forwarded by A (verified)"), "\(verified.stdout)")
        #expect(verified.stdout.contains("their note: please act quickly"))
        #expect(verified.stdout.contains("their triage: category forced_labour, urgency high"))

        // A's audit log holds the forward: partner, fields, redactions, the hash of what was sent.
        let log = try a.desk(["forwards", "--json"])
        #expect(log.status == 0, "\(log.stderr)")
        let entry = try #require(try JSONSerialization.jsonObject(with: Data(log.stdout.utf8)) as? [String: Any])
        #expect(entry["partner"] as? String == "B")
        #expect(entry["redacted_fields"] as? [String] == ["contact", "where"])
        #expect(entry["fields"] as? [String] == ["kind"])
        #expect(entry["redacted_phrases"] as? Int == 1)
        #expect((entry["sent_blake2b"] as? String)?.count == 64)
        #expect(try a.desk(["audit", "verify"]).status == 0)

        // A server that refuses a parcel (here A's own, which does not know B's key): the courier
        // reports the server's code, and the parcel stays for the next run.
        #expect(
            try a.desk(["partners", "add", "Misdirected", "--keyring", b.keyring, "--fingerprint", b.org.fingerprint, "--delivery", "tipgate:\(a.server.url)"])
                .status == 0)
        let stuck = a.org.dir.appendingPathComponent("outbox2")
        #expect(try a.desk(["forward", id, "--to", "Misdirected", "--outbox", stuck.path]).status == 0)
        let refused = try tipdesk(["courier", "deliver", stuck.path, "--cacert", a.server.certificate])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("unknown_key"), "\(refused.stderr)")
        #expect(refused.stdout.contains("delivered 0 of 1"), "\(refused.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: stuck.path).count == 1)
        // And the tip is marked forwarded.
        #expect((try a.desk.list().first?["triage"] as? [String: Any])?["status"] as? String == "forwarded")
    }

    /// A, with a live tipgate, and C, a partner that takes files by hand: C's intake key
    /// document, exported for A, and its fingerprint.
    func orgAndFilePartner(_ label: String) throws -> (a: LiveOrg, c: KeyringCLITests.Org, cKey: String, cFingerprint: String) {
        let a = try LiveOrg("\(label)-a")
        let c = try KeyringCLITests.Org("\(label)-c")
        let cKey = c.dir.appendingPathComponent("c.public.json").path
        let exported = try c.desk(["keys", "export", "--out", cKey])
        guard exported.status == 0 else {
            a.server.stop()
            throw TestFailure("keys export: \(exported.stderr)")
        }
        let keyDoc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cKey))) as! [String: Any]
        return (a, c, cKey, keyDoc["fingerprint"] as! String)
    }

    /// SECURITY.md §11.5 step 6: A replaces its forwarding key (say it leaked). Once C has
    /// A's newer keyring (here by hand, `orgs add --keyring`), a forward signed with the old key
    /// under the older keyring no longer shows as verified (`replaced_key`), through a removal
    /// of A and its return, while one signed with the new key does; the audit log says so.
    @Test func aReplacedForwardingKeyIsFlaggedOnceANewerKeyringArrives() throws {
        let (a, c, cKey, fp) = try orgAndFilePartner("fwd-replace")
        defer { a.server.stop() }
        let files = a.org.dir.appendingPathComponent("to-c")
        #expect(try a.desk(["partners", "add", "C", "--public-key", cKey, "--fingerprint", fp, "--delivery", "outbox:\(files.path)"]).status == 0)
        let r = try a.desk.seal(
            ["--server", a.server.url, "--root-fingerprint", a.org.fingerprint, "--cacert", a.server.certificate, "--post"],
            stdin: Data("Two boys work nights at the car wash on Bobur street.".utf8))
        #expect(r.status == 0, "\(r.stderr)")
        _ = try a.pullAndImport("a.tipgate")
        let id = try #require(try a.desk.list().first?["id"] as? String)
        func forwardAndImport() throws -> String {
            let before = Set((try? FileManager.default.contentsOfDirectory(atPath: files.path)) ?? [])
            let f = try a.desk(["forward", id, "--to", "C"])
            #expect(f.status == 0, "\(f.stderr)")
            let parcel = try #require(try FileManager.default.contentsOfDirectory(atPath: files.path).first { !before.contains($0) })
            let i = try c.desk(["import", files.appendingPathComponent(parcel).path])
            #expect(i.status == 0, "\(i.stderr)")
            return parcel
        }
        #expect(try c.desk(["orgs", "add", "A", "--root-key", a.org.root, "--fingerprint", a.org.fingerprint]).status == 0)
        _ = try forwardAndImport()
        let old = try #require(try c.desk.list().first?["id"] as? String)
        #expect(try c.desk(["show", old]).stdout.contains("forwarded by A (verified)"))
        // A replaces its forwarding key: a new keyring (serial 3) that certifies another key.
        // A tells C through a channel of their own: C records the keyring by hand.
        let k3 = try a.org.sign(["forwarding-key", "--kdf", "interactive", "--replace"], "k3.json")
        let told = try c.desk(["orgs", "add", "A", "--keyring", k3, "--fingerprint", a.org.fingerprint])
        #expect(told.status == 0 && told.stderr.contains("remembered keyring 3 of A"), "\(told.stderr)")
        #expect(try c.desk(["orgs", "list"]).stdout.contains("  newest keyring 3"))
        let replaced = "a forward that does not verify (replaced_key)"
        let shown = try c.desk(["show", old]).stdout
        #expect(shown.contains(replaced) && !shown.contains("(verified)"), "\(shown)")
        // Removing A and adding it back by its root keeps what C knew: no rollback.
        #expect(try c.desk(["orgs", "remove", "A"]).status == 0)
        #expect(try c.desk(["orgs", "add", "A", "--root-key", a.org.root, "--fingerprint", a.org.fingerprint]).status == 0)
        #expect(try c.desk(["show", old]).stdout.contains(replaced))
        // A forward signed with the new key verifies; its keyring is not newer, so it adds nothing.
        _ = try forwardAndImport()
        let new = try #require(try c.desk.list().compactMap { $0["id"] as? String }.first { $0 != old })
        #expect(try c.desk(["show", new]).stdout.contains("forwarded by A (verified)"))
        #expect(try c.desk(["show", old]).stdout.contains(replaced))
        let again = try c.desk(["orgs", "add", "A", "--keyring", k3, "--fingerprint", a.org.fingerprint])
        #expect(again.status == 1 && again.stderr.contains("as new as this one"), "\(again.stderr)")
        let rootDoc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: a.org.root))) as! [String: Any]
        let audit = try c.desk(["audit", "show"]).stdout.split(separator: "\n").filter { $0.contains("newer keyring") }
        // Serial 2 from the first forward (A was known by its root alone), then 3 by hand.
        #expect(audit.allSatisfy { $0.contains("name=A root_key_id=\(rootDoc["key_id"] as! String) ") }, "\(audit)")
        #expect(audit.map { $0.suffix(8) } == ["serial=2", "serial=3"], "\(audit)")
    }

    /// SECURITY.md §11.5 step 7: a root that signed two keyrings of one serial (here a root
    /// key held by the test, as a thief would hold it, certifying a thief's forwarding key
    /// beside the real one). For X, `tipdesk import` raises an alarm when the second forward
    /// arrives; for Y, `orgs add --keyring` with the thief's keyring does. `orgs list` marks
    /// the keyrings, the audit log records them, and no forward of either shows as verified.
    @Test func twoKeyringsOfOneSerialRaiseAnAlarm() throws {
        let c = try KeyringCLITests.Org("fwd-conflict")
        let cKey = c.dir.appendingPathComponent("c.public.json").path
        #expect(try c.desk(["keys", "export", "--out", cKey]).status == 0)
        let to = try KeyIdentity.verifiedDocument(Data(contentsOf: URL(fileURLWithPath: cKey)))
        struct Root {
            let name: String
            let key = SigningKeyPair.generate()
            var doc: RootKeyDocument { RootIdentity.document(for: key.publicKey) }
        }
        func keyring(_ root: Root, certifying key: SigningKeyPair) throws -> Data {
            let payload = KeyringPayload(
                serial: 4, issued: .today, expires: Day.today.adding(days: 90), rootKeyID: root.doc.keyID,
                intakeKeys: [IntakeKeyEntry(keyID: to.keyID, publicKey: to.publicKey, notBefore: .today)], scripts: [:],
                forwardingKey: .init(keyID: KeyIdentity.keyID(for: key.publicKey), publicKey: key.publicKey))
            return try KeyringSigner.sign(payload, with: root.key).encoded()
        }
        /// A forward from `root` signed with `key` under a keyring 4 certifying it, imported by C.
        func forwardAndImport(_ root: Root, _ key: SigningKeyPair) throws -> RunResult {
            let doc = try ForwardDocument(
                org: root.doc.keyID, day: .today, body: "a forward from \(root.name)", fields: [:], lang: "en", note: nil, category: nil, urgency: nil)
            let s = try ForwardSealer.seal(doc, keyring: try keyring(root, certifying: key), forwardingKey: key, to: to).submission
            let parcel = c.dir.appendingPathComponent("parcel-\(Random.hex128())")
            try ForwardParcel(id: Random.tipID(), day: .today, deliverTo: nil, keyID: s.keyID, sealed: s.sealed).encoded().write(to: parcel)
            return try c.desk(["import", parcel.path])
        }
        let real = SigningKeyPair.generate()
        let thief = SigningKeyPair.generate()
        let (x, y) = (Root(name: "X"), Root(name: "Y"))
        for root in [x, y] {
            let file = c.dir.appendingPathComponent("\(root.name)-root.json")
            try root.doc.encoded().write(to: file)
            #expect(try c.desk(["orgs", "add", root.name, "--root-key", file.path, "--fingerprint", root.doc.fingerprint]).status == 0)
            let first = try forwardAndImport(root, real)
            #expect(first.status == 0 && !first.stderr.contains("ALARM"), "\(first.stderr)")
        }
        // X: the thief's forward arrives, and the import raises the alarm.
        let second = try forwardAndImport(x, thief)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("ALARM: the root of X signed two different keyrings of one serial"), "\(second.stderr)")
        // Y: the thief's keyring reaches C by hand, and `orgs add --keyring` raises it.
        let thiefRing = c.dir.appendingPathComponent("y-k4.json")
        try keyring(y, certifying: thief).write(to: thiefRing)
        let told = try c.desk(["orgs", "add", "Y", "--keyring", thiefRing.path, "--fingerprint", y.doc.fingerprint])
        #expect(told.status == 0 && told.stderr.contains("ALARM: the root of Y signed two different keyrings numbered 4"), "\(told.stderr)")
        let again = try c.desk(["orgs", "add", "Y", "--keyring", thiefRing.path, "--fingerprint", y.doc.fingerprint])
        #expect(again.status == 1 && again.stderr.contains("already marked conflicting"), "\(again.stderr)")
        let listed = try c.desk(["orgs", "list"]).stdout
        #expect(listed.components(separatedBy: "newest keyring 4 (CONFLICTING").count == 3, "\(listed)")
        let ids = try c.desk.list().compactMap { $0["id"] as? String }
        #expect(ids.count == 3)
        for id in ids {
            let shown = try c.desk(["show", id]).stdout
            #expect(shown.contains("(conflicting_keyring)") && !shown.contains("(verified)"), "\(shown)")
        }
        #expect(try c.desk(["audit", "show"]).stdout.components(separatedBy: "conflicting keyrings").count == 3)
    }

    /// A partner who takes files by hand: the outbox file is carried and imported directly.
    @Test func outboxRoundTrip() throws {
        let (a, c, cKey, fp) = try orgAndFilePartner("fwd-file")
        defer { a.server.stop() }

        let r = try a.desk.seal(
            [
                "--server", a.server.url, "--root-fingerprint", a.org.fingerprint, "--cacert", a.server.certificate, "--post", "--field",
                "contact=me@example.org",
            ],
            stdin: Data("Children are kept in the back of the café on Navoi street.".utf8))
        #expect(r.status == 0, "\(r.stderr)")
        _ = try a.pullAndImport("a.tipgate")
        let id = try #require(try a.desk.list().first?["id"] as? String)

        let files = a.org.dir.appendingPathComponent("to-c")
        // A fingerprint that does not match the key document is refused.
        let mismatch = String(fp.reversed())
        let refused = try a.desk(["partners", "add", "C", "--public-key", cKey, "--fingerprint", mismatch, "--delivery", "outbox:\(files.path)"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("does not match the partner's key"), "\(refused.stderr)")
        #expect(try a.desk(["partners", "add", "C", "--public-key", cKey, "--fingerprint", fp.uppercased(), "--delivery", "outbox:\(files.path)"]).status == 0)
        #expect(try a.desk(["partners", "list"]).stdout.contains("C  key"))

        // A phrase that does not occur is refused: it is likely mistyped.
        let typo = try a.desk(["forward", id, "--to", "C", "--redact-text", "Navoiy"])
        #expect(typo.status == 1)
        #expect(typo.stderr.contains("does not occur"), "\(typo.stderr)")
        let fwd = try a.desk(["forward", id, "--to", "C", "--include-contact", "--redact-text", "Navoi"])
        #expect(fwd.status == 0, "\(fwd.stderr)")
        let parcel = try #require(try FileManager.default.contentsOfDirectory(atPath: files.path).first)

        // C imports the file; it opens, carries the contact (asked for), and verifies once C knows A.
        let path = files.appendingPathComponent(parcel).path
        let imported = try c.desk(["import", path])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try c.desk(["orgs", "add", "A", "--root-key", a.org.root, "--fingerprint", a.org.fingerprint]).status == 0)
        let cid = try #require(try c.desk.list().first?["id"] as? String)
        let shown = try c.desk(["show", cid])
        #expect(shown.stdout.contains("forwarded by A (verified)"), "\(shown.stdout)")
        #expect(shown.stdout.contains("contact: me@example.org"), "\(shown.stdout)")
        #expect(shown.stdout.contains("café on █ street"), "\(shown.stdout)")
        #expect(shown.stdout.contains("server:   - (carried as a file)"))
        // Importing it again adds nothing; a carried forward has nothing to acknowledge.
        #expect(try c.desk(["import", path]).status == 0)
        #expect(try c.desk.list().count == 1)
        #expect(
            try c.desk(["ack", "--out", c.dir.appendingPathComponent("ack").path, "--without-backup"]).stderr.contains("no opened tip is waiting for an ack"))
        // A reviewer-edited body goes out instead of the witness's, and the log says so.
        let edited = a.org.dir.appendingPathComponent("edited.txt")
        try Data("Children are held at a café in the old town.".utf8).write(to: edited)
        #expect(try a.desk(["forward", id, "--to", "C", "--body-file", edited.path]).status == 0)
        let entries = try a.desk(["forwards", "--json"]).stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(entries.map { $0["body_edited"] as? Bool } == [false, true])
        #expect(entries.last?["redacted_fields"] as? [String] == ["contact"])
        let second = try #require(try FileManager.default.contentsOfDirectory(atPath: files.path).first { $0 != parcel })
        #expect(try c.desk(["import", files.appendingPathComponent(second).path]).status == 0)
        let bodies = Set(try c.desk.list().compactMap { $0["body"] as? String })
        #expect(bodies.contains("Children are held at a café in the old town."), "\(bodies)")
        #expect(try a.desk(["partners", "show", "c"]).stdout.contains("delivery:    outbox:\(files.path)"))
        #expect(try a.desk(["partners", "remove", "C"]).status == 0)
        #expect(try a.desk(["partners", "list"]).stdout.isEmpty)

        // A witness's own tip is not marked as a forward.
        #expect(try a.desk.list().allSatisfy { $0["forwarded"] == nil })

        // A vault with no key for it refuses it, and imports nothing.
        let d = try KeyringCLITests.Org("fwd-file-d")
        let stray = try d.desk(["import", path])
        #expect(stray.status == 1)
        #expect(stray.stderr.contains("no key in this vault matches this forward"), "\(stray.stderr)")
    }
}
