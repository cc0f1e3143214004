import Foundation
import TipCore
import TipCrypto
import TipStore

/// The plaintext of a record's box (SECURITY.md §10.2), UTF-8 JSON with sorted keys:
///
///     {"document":{"body":"…","fields":{…},"lang":"ru"},"triage":{"status":"new",…},"v":1}
///
/// `document` has the members of the tip document (§3.2) but `v`; `triage` is `Triage`'s
/// encoding. The box is `VaultDataKey.sealRecord`: AD = the tip id, a fresh nonce per write.
enum RecordBox {
    struct Plain: Codable {
        var v: Int
        var document: Document
        var triage: Triage
    }

    struct Document: Codable {
        var body: String
        var fields: [String: String]?
        var lang: String?
    }

    static func seal(_ doc: TipDocument, _ triage: Triage, id: TipID, key: VaultDataKey) -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var plain = try! enc.encode(
            Plain(v: 1, document: Document(body: doc.body, fields: doc.fields.isEmpty ? nil : doc.fields, lang: doc.lang), triage: triage))
        defer { plain.resetBytes(in: 0..<plain.count) }
        return plain.withUnsafeBytes { key.sealRecord($0, id: id) }
    }

    static func open(_ box: [UInt8], id: TipID, key: VaultDataKey) throws -> (TipDocument, Triage) {
        var scratch = SecureBytes(count: box.count)
        return try open(box, id: id, key: key, scratch: &scratch)
    }

    /// As above, decrypting into `scratch`, a locked buffer reused from record to record and
    /// wiped after each (a fresh one per record costs an mmap and mlock, issue 9).
    static func open(_ box: [UInt8], id: TipID, key: VaultDataKey, scratch: inout SecureBytes) throws -> (TipDocument, Triage) {
        let n: Int
        do { n = try key.openRecord(box, id: id, into: &scratch) } catch {
            throw DeskError("the vault record of tip \(id) does not decrypt: it was altered", hints: ["restore the vault from a backup"])
        }
        let plain = scratch
        defer { plain.wipe(prefix: n) }
        let p: Plain
        do {
            p = try plain.withUnsafeBytes { raw in
                try JSONDecoder().decode(Plain.self, from: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: raw.baseAddress!), count: n, deallocator: .none))
            }
        } catch let e as DeskError { throw e } catch { throw DeskError("the vault record of tip \(id) is damaged") }
        guard p.v == 1 else { throw DeskError("the vault record of tip \(id) has an unknown version") }
        do {
            return (try TipDocument(body: p.document.body, fields: p.document.fields ?? [:], lang: p.document.lang), p.triage)
        } catch { throw DeskError("the vault record of tip \(id) is damaged") }
    }
}

/// An unlocked vault: the data key, and the intake keys when a command needs to open sealed
/// tips. Made by `Desk.session`.
public final class VaultSession {
    public let vault: Vault
    let db: VaultDatabase
    let dataKey: VaultDataKey
    let passphrase: SecureBytes
    private var intake: TipOpener?
    public let today: Day

    init(vault: Vault, passphrase: SecureBytes, today: Day) throws {
        self.vault = vault
        self.passphrase = passphrase
        self.today = today
        db = try vault.database()
        dataKey = try vault.unlockDataKey(passphrase)
    }

    /// The intake keys, unlocked on first use (Argon2id per key file).
    func opener() throws -> TipOpener {
        if let intake { return intake }
        let o = try vault.unlock(passphrase)
        intake = o
        return o
    }

    var desk: Desk { Desk(vault: vault, today: today) }

    /// Every tip held, decrypted on all cores, in no particular order.
    public func tips() throws -> [OpenedTip] { try tips(where: { _ in true }, label: "decrypting") }

    public func tip(_ id: TipID) throws -> OpenedTip {
        guard let r = try db.record(id) else { throw DeskError("no tip with id \(id)", hints: ["see the ids with: tipdesk list"]) }
        let (t, ok) = Self.decrypt(r, key: dataKey)
        try ok.get()
        return t
    }

    /// A damaged box is not a tip that failed to open: it is a vault that was altered, and the
    /// caller reports it as an error of the whole command.
    static func decrypt(_ r: VaultRecord, key: VaultDataKey) -> (OpenedTip, Result<Void, DeskError>) {
        var scratch = SecureBytes(count: r.box?.count ?? 1)
        return decrypt(r, key: key, scratch: &scratch)
    }

    static func decrypt(_ r: VaultRecord, key: VaultDataKey, scratch: inout SecureBytes) -> (OpenedTip, Result<Void, DeskError>) {
        var t = OpenedTip(
            id: r.id, day: r.day, keyID: r.keyID, result: .failure(Desk.openError(r.openError ?? "not_opened", keyID: r.keyID)),
            instance: r.instance, sizeClass: r.sizeClass, acked: r.acked)
        guard let box = r.box else { return (t, .success(())) }
        do {
            let (doc, triage) = try RecordBox.open(box, id: r.id, key: key, scratch: &scratch)
            t = OpenedTip(
                id: r.id, day: r.day, keyID: r.keyID, result: .success(doc), instance: r.instance, sizeClass: r.sizeClass, acked: r.acked,
                triage: triage)
            return (t, .success(()))
        } catch let e as DeskError {
            return (t, .failure(e))
        } catch {
            return (t, .failure(DeskError("the vault record of tip \(r.id) is damaged")))
        }
    }

    /// Shows one tip: decrypts it and records `show` in the audit log.
    public func show(_ id: TipID) throws -> OpenedTip {
        let t = try tip(id)
        try db.write { w in _ = try AuditLog.append(.show, ["ids": .strings([id.hex])], day: today, key: dataKey, in: w) }
        return t
    }

    /// `tipdesk show --out`: the one way plaintext reaches the disk, on request. The file is
    /// written (O_EXCL, 0600, fsynced) inside the transaction that records `export`, so there
    /// is never an export without its audit entry; if the commit fails the file is removed.
    public func export(_ id: TipID, to url: URL, suggestion: Rules.Suggestion?) throws {
        let t = try tip(id)
        if case .failure(let e) = t.result { throw e }
        let json = Data((TipJSON.encode([t], suggestions: suggestion.map { [id: $0] } ?? [:]) + "\n").utf8)
        var written = false
        do {
            try db.write { w in
                _ = try AuditLog.append(.export, ["ids": .strings([id.hex])], day: today, key: dataKey, in: w)
                do { try DurableFile.writeNew(json, to: url) } catch let e as StoreError {
                    throw DeskError(e.message, hints: e.code == "file_exists" ? ["choose another --out; an export never replaces a file"] : [])
                }
                written = true
            }
        } catch {
            if written { try? FileManager.default.removeItem(at: url) }
            throw error
        }
    }
}
