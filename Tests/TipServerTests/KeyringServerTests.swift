import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TipCore
import TipCrypto
import TipServer
import TipStore
import TipTestSupport

/// A settable day, so a test can cross an overlap.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var day: Day
    init(_ d: Day) { day = d }
    var now: Day { lock.withLock { day } }
    func set(_ d: Day) { lock.withLock { day = d } }
}

/// A root, two intake keys and keyrings signed by the root, with a live server in keyring mode.
struct KeyringFixture {
    let root = SigningKeyPair.generate()
    let k1 = IntakeKeyPair.generate()
    let k2 = IntakeKeyPair.generate()
    let d0 = Day("2026-11-01")!

    func payload(serial: Int, overlap: Bool, expires: Day? = nil) -> KeyringPayload {
        var keys = [IntakeKeyEntry(keyID: k1.keyID, publicKey: k1.publicKey, notBefore: d0, notAfter: overlap ? d0.adding(days: 14) : nil)]
        if overlap { keys.append(IntakeKeyEntry(keyID: k2.keyID, publicKey: k2.publicKey, notBefore: d0)) }
        return KeyringPayload(
            serial: serial, issued: d0, expires: expires ?? d0.adding(days: 90), rootKeyID: root.rootDocument.keyID, intakeKeys: keys,
            scripts: [:])
    }

    func signed(_ p: KeyringPayload, by key: SigningKeyPair? = nil) -> Data { KeyringSigner.sign(p, with: key ?? root).encoded() }
}

@Suite struct KeyringServerTests {
    func tip(_ key: IntakeKeyPair, _ body: String) throws -> Data {
        try TipSealer.seal(TipDocument(body: body), to: key.document).encoded()
    }

    // SECURITY.md §2.5, §6: a key listed with a later not_before is not taken yet (422
    // key_retired, as a key past its window), and is from its first day; a key no keyring lists
    // is unknown_key. Nothing refused is stored.
    @Test func aPendingKeyIsRefusedUntilItsFirstDay() async throws {
        let f = KeyringFixture()
        let h = try Harness()
        let clock = TestClock(f.d0.adding(days: 1))
        let starts = f.d0.adding(days: 10)
        let p = KeyringPayload(
            serial: 3, issued: f.d0, expires: f.d0.adding(days: 90), rootKeyID: f.root.rootDocument.keyID,
            intakeKeys: [
                IntakeKeyEntry(keyID: f.k1.keyID, publicKey: f.k1.publicKey, notBefore: f.d0),
                IntakeKeyEntry(keyID: f.k2.keyID, publicKey: f.k2.publicKey, notBefore: starts),
            ], scripts: [:])
        let file = f.signed(p)
        let (_, payload) = try KeyringSigner.verify(file, pin: .key(f.root.publicKey))
        let dir = KeyringDirectory(file: file, payload: payload, root: f.root.rootDocument, today: { clock.now })
        let early = try tip(f.k2, "to the next key, too early")
        let onTime = try tip(f.k2, "to the next key, on its first day")
        let stranger = try tip(IntakeKeyPair.generate(), "to a key no keyring lists")
        let results = try await h.run(keys: dir) { client in
            var out = [String]()
            let a = try await client.postTip(early)
            out.append("\(a.status.code) \(a.errorCode ?? "")")
            let b = try await client.postTip(stranger)
            out.append("\(b.status.code) \(b.errorCode ?? "")")
            clock.set(starts)
            out.append("\(try await client.postTip(onTime).status.code)")
            return out
        }
        #expect(results == ["422 key_retired", "422 unknown_key", "201"])
        #expect(try h.database.allTips().count == 1)
    }

    // Across a rotation with a 14-day overlap, tips to the old key are taken until the overlap
    // ends, then refused as retired; tips to the new key always; every stored tip opens.
    @Test func rotationWithOverlapLosesNothing() async throws {
        let f = KeyringFixture()
        let h = try Harness()
        let clock = TestClock(f.d0.adding(days: 1))
        let file = f.signed(f.payload(serial: 2, overlap: true))
        let (_, payload) = try KeyringSigner.verify(file, pin: .key(f.root.publicKey))
        let dir = KeyringDirectory(file: file, payload: payload, root: f.root.rootDocument, today: { clock.now })
        let t1 = try tip(f.k1, "to the old key")
        let t2 = try tip(f.k2, "to the new key")
        let t3 = try tip(f.k1, "old key, too late")
        let newKey = f.k2.keyID
        let afterOverlap = f.d0.adding(days: 15)
        let results = try await h.run(keys: dir) { client in
            var codes = [Int]()
            let key = try await client.execute(uri: "/api/v1/key", method: .get)
            codes.append(try KeyIdentity.verifiedDocument(Data(key.text.utf8)).keyID == newKey ? 1 : 0)
            codes.append(Int(try await client.postTip(t1).status.code))
            codes.append(Int(try await client.postTip(t2).status.code))
            clock.set(afterOverlap)
            let late = try await client.postTip(t3)
            codes.append(Int(late.status.code))
            codes.append(late.errorCode == "key_retired" ? 1 : 0)
            codes.append(Int(try await client.postTip(t2).status.code))
            let served = try await client.execute(uri: "/api/v1/keyring", method: .get)
            codes.append(Data(served.body.readableBytesView) == file ? 1 : 0)
            return codes
        }
        #expect(results == [1, 201, 201, 422, 1, 201, 1])
        let opener = TipOpener(keys: [f.k1, f.k2])
        let stored = try h.database.allTips()
        #expect(stored.count == 3)
        for t in stored { _ = try opener.open(keyID: t.keyID, sealed: t.sealed) }
    }

    // SECURITY.md §2.6: each bad keyring is refused with its own code, and the installed one
    // stays, byte for byte.
    @Test func installRefusals() throws {
        let f = KeyringFixture()
        let dir = scratchDirectory("install")
        let store = KeyringStore(dataDirectory: dir.path, root: f.root.rootDocument)
        let today = f.d0.adding(days: 1)
        let v3 = f.signed(f.payload(serial: 3, overlap: true))
        #expect(try store.install(v3, today: today) == .installed(serial: 3))
        #expect(try store.install(v3, today: today) == .alreadyInstalled(serial: 3))
        var forged = try JSONSerialization.jsonObject(with: f.signed(f.payload(serial: 4, overlap: true))) as! [String: Any]
        forged["signature"] = Data(f.root.sign(Data("something else".utf8))).base64EncodedString()
        let changed = String(decoding: f.signed(f.payload(serial: 5, overlap: true)), as: UTF8.self)
        let changedPayload = try JSONSerialization.jsonObject(with: Data(changed.utf8)) as! [String: Any]
        let p = String(decoding: Data(base64Encoded: changedPayload["payload"] as! String)!, as: UTF8.self).replacingOccurrences(
            of: "\"serial\":5", with: "\"serial\":6")
        var tampered = changedPayload
        tampered["payload"] = Data(p.utf8).base64EncodedString()
        let cases: [(String, Data, String)] = [
            ("forged signature", try JSONSerialization.data(withJSONObject: forged), "bad_signature"),
            ("payload changed, valid JSON", try JSONSerialization.data(withJSONObject: tampered), "bad_signature"),
            ("another root", f.signed(f.payload(serial: 7, overlap: true), by: SigningKeyPair.generate()), "wrong_root"),
            ("rolled-back serial", f.signed(f.payload(serial: 2, overlap: true)), "rollback"),
            ("same serial, other bytes", f.signed(f.payload(serial: 3, overlap: false)), "rollback"),
            ("expired", f.signed(f.payload(serial: 8, overlap: true, expires: f.d0)), "keyring_expired"),
            ("truncated", f.signed(f.payload(serial: 9, overlap: true)).prefix(100), "bad_keyring"),
        ]
        for (what, file, code) in cases {
            #expect(throws: FormatError.self, "\(what)") { try store.install(file, today: today) }
            do { try store.install(file, today: today) } catch let e as FormatError { #expect(e.code == code, "\(what)") }
            #expect(FileManager.default.contents(atPath: store.url.path) == v3, "\(what) changed the installed keyring")
        }
        #expect(try store.install(f.signed(f.payload(serial: 10, overlap: false)), today: today) == .installed(serial: 10))
        // Installed under another root (the wrong --root-key given to keys install): the
        // keyring there is kept, and a foreign file there is no bound on serials.
        let other = SigningKeyPair.generate()
        let elsewhere = KeyringStore(dataDirectory: dir.path, root: other.rootDocument)
        let base = f.payload(serial: 99, overlap: false)
        let foreign = f.signed(
            KeyringPayload(
                serial: base.serial, issued: base.issued, expires: base.expires, rootKeyID: other.rootDocument.keyID, intakeKeys: base.intakeKeys,
                scripts: [:]),
            by: other)
        do { try elsewhere.install(foreign, today: today) } catch let e as FormatError { #expect(e.code == "installed_not_this_root") }
        #expect(FileManager.default.contents(atPath: store.url.path) != foreign)
        try FileManager.default.removeItem(at: store.url)
        #expect(try elsewhere.install(foreign, today: today) == .installed(serial: 99))
        do { try store.install(f.signed(f.payload(serial: 11, overlap: false)), today: today) } catch let e as FormatError {
            #expect(e.code == "installed_not_this_root", "a foreign serial 99 is no rollback bound")
        }
        #expect(FileManager.default.contents(atPath: store.url.path) == foreign)
    }

    // The running server reloads a newly installed keyring by itself.
    @Test func runningServerReloadsTheInstalledKeyring() async throws {
        let f = KeyringFixture()
        let h = try Harness()
        let store = KeyringStore(dataDirectory: h.config.dataDirectory, root: f.root.rootDocument)
        try store.install(f.signed(f.payload(serial: 1, overlap: false, expires: Day.today.adding(days: 30))))
        let (file, payload) = try store.load()!
        let dir = KeyringDirectory(file: file, payload: payload, root: f.root.rootDocument)
        let watcher = KeyringWatcher(store: store, directory: dir, logger: Logger(label: "t"), interval: .milliseconds(100))
        let v2 = f.signed(
            KeyringPayload(
                serial: 2, issued: .today, expires: Day.today.adding(days: 30), rootKeyID: f.root.rootDocument.keyID,
                intakeKeys: [IntakeKeyEntry(keyID: f.k2.keyID, publicKey: f.k2.publicKey, notBefore: .today)], scripts: [:]))
        let tip2 = try tip(f.k2, "after reload")
        let (serial, status) = try await h.run(keys: dir, services: [watcher]) { client in
            try store.install(v2)
            var s = 1
            for _ in 0..<50 where s != 2 {
                try await Task.sleep(for: .milliseconds(100))
                let r = try await client.execute(uri: "/api/v1/keyring", method: .get)
                s = try KeyringPayload.decode(SignedKeyring.decode(Data(r.body.readableBytesView)).payload).serial
            }
            return (s, try await client.postTip(tip2).status.code)
        }
        #expect(serial == 2)
        #expect(status == 201)
    }

    // SECURITY.md §2.6: the server refuses to start on an expired keyring, or one its pinned
    // root did not sign.
    @Test func refusesToStartOnExpiredOrForeignKeyring() throws {
        let f = KeyringFixture()
        let h = try Harness()
        let rootPath = h.directory.appendingPathComponent("root.json")
        try f.root.rootDocument.encoded().write(to: rootPath)
        var config = h.config
        config.keys = .keyring(rootKeyPath: rootPath.path, install: nil)
        let installed = URL(fileURLWithPath: h.config.dataDirectory).appendingPathComponent(KeyringStore.fileName)
        let cases: [(Data, String)] = [
            (f.signed(f.payload(serial: 1, overlap: false, expires: Day.today.adding(days: -1))), "keyring_expired"),
            (f.signed(f.payload(serial: 1, overlap: false, expires: Day.today.adding(days: 9))), ""),
            (f.signed(f.payload(serial: 1, overlap: false, expires: Day.today.adding(days: 9)), by: SigningKeyPair.generate()), "wrong_root"),
        ]
        for (file, code) in cases {
            try file.write(to: installed)
            do {
                _ = try ServerDependencies.open(config, logger: Logger(label: "t"))
                #expect(code.isEmpty, "started with a keyring that should fail with \(code)")
            } catch let e as ConfigError {
                #expect(!code.isEmpty && e.description.contains(code), "\(e)")
            }
        }
    }

    @Test func pageNamesThePinnedRoot() async throws {
        let f = KeyringFixture()
        let h = try Harness()
        let file = f.signed(f.payload(serial: 1, overlap: false))
        let dir = KeyringDirectory(file: file, payload: try KeyringPayload.decode(SignedKeyring.decode(file).payload), root: f.root.rootDocument)
        let page = try await h.run(keys: dir) { client in try await client.execute(uri: "/", method: .get).text }
        #expect(page.contains("data-root-key=\"\(Data(f.root.publicKey).base64EncodedString())\""))
    }
}
