import Foundation
import TipCore
import TipCrypto
import TipStore

/// What the reviewer chose to share (SECURITY.md §11.2).
public struct ForwardRequest: Sendable {
    public var partner: String
    /// Fields to leave out. The witness's `contact` is left out unless `includeContact`.
    public var redactFields: [String] = []
    /// Phrases replaced by █ wherever they occur, in any letter case.
    public var redactPhrases: [String] = []
    /// A reviewer-edited body to send instead of the witness's.
    public var body: String?
    public var note: String?
    public var includeContact = false
    /// Where a forward for a partner's tipgate is written, for the courier; VAULT/outbox if nil.
    public var outbox: URL?

    public init(partner: String) { self.partner = partner }
}

public struct ForwardReport: Equatable, Sendable {
    public let partner: String
    public let file: URL
    public let forwardID: String
    public let sharedFields: [String]
    public let redactedFields: [String]
    public let redactedPhrases: Int
    public let bodyEdited: Bool
    /// BLAKE2b-256 of the sealed bytes, as the audit log records it.
    public let sentHash: String
}

/// The mark a redacted phrase becomes.
public let redactionMark = "█"

/// Fields that may reach the witness, withheld unless `--include-contact` (§11.2): the page's
/// `contact`, and what a client of its own may call it. Matched without regard to case.
let contactFields: Set<String> = ["contact", "phone", "telephone", "tel", "mobile", "email", "e-mail", "telegram", "whatsapp", "signal"]

/// The page's own field names (§3.7): the audit log records these by name; any other name was
/// chosen by whoever sealed the tip, so only their number is recorded (§10.3).
let pageFields: Set<String> = ["where", "when", "kind", "contact"]

/// The instance recorded for a forward imported from a file rather than from a server's
/// bundle: no server holds it, so there is nothing to acknowledge.
public let carriedInstance = String(repeating: "0", count: 32)

extension VaultSession {
    /// What is shared of `doc` under `req` (§11.2): fields left out, phrases redacted in the
    /// body, the remaining field values and the note.
    struct Shared {
        var body: String
        var fields: [String: String]
        var note: String?
        var withheld: [String]
    }

    func share(_ doc: TipDocument, _ req: ForwardRequest, id: TipID) throws -> Shared {
        var fields = doc.fields
        var withheld = [String]()
        for f in req.redactFields {
            guard let k = fields.keys.first(where: { $0.lowercased() == f.lowercased() }) else {
                throw DeskError(
                    "tip \(id) has no field \(TerminalText.preview(f, limit: 40))",
                    hints: [
                        doc.fields.isEmpty
                            ? "it has no fields" : "its fields: " + doc.fields.keys.sorted().map { TerminalText.preview($0, limit: 40) }.joined(separator: ", ")
                    ])
            }
            fields[k] = nil
            withheld.append(k)
        }
        if !req.includeContact {
            for k in fields.keys where contactFields.contains(k.lowercased()) {
                fields[k] = nil
                withheld.append(k)
            }
        }
        let phrases = req.redactPhrases
        for p in phrases where Redaction.key(p).isEmpty { throw DeskError("a phrase to redact is empty") }
        // A field's name cannot be redacted, only left out.
        for k in fields.keys where Redaction.contains(k, any: phrases) {
            throw DeskError(
                "a field name, \(TerminalText.preview(k, limit: 40)), contains a phrase to redact",
                hints: ["leave the field out: --redact '\(TerminalText.preview(k, limit: 40))'"])
        }
        var totals = [Int](repeating: 0, count: phrases.count)
        func apply(_ text: String) -> String {
            let (out, counts) = Redaction.redact(text, phrases: phrases)
            for (i, c) in counts.enumerated() { totals[i] += c }
            return out
        }
        let body = apply(req.body ?? doc.body)
        for (k, v) in fields { fields[k] = apply(v) }
        let note = req.note.map(apply)
        // A phrase that matches nothing is most likely mistyped, and what it was meant to hide
        // would go out: refuse rather than send.
        for (p, n) in zip(phrases, totals) where n == 0 {
            throw DeskError(
                "the phrase \(TerminalText.preview(p, limit: 40)) does not occur in what would be shared",
                hints: ["check its spelling against: tipdesk show \(id.hex.prefix(12))"])
        }
        let out = Shared(body: body, fields: fields, note: note, withheld: withheld.sorted())
        // Belt and braces: nothing of a phrase may survive, however it was written.
        guard !([out.body, out.note ?? ""] + Array(out.fields.values)).contains(where: { Redaction.contains($0, any: phrases) }) else {
            throw DeskError("internal error: a redacted phrase is still in the forward; nothing was sent")
        }
        return out
    }

    /// Builds, signs, seals and writes one forward, and records it (SECURITY.md §11). The
    /// parcel is written under a temporary name inside the transaction that appends the
    /// `forward` audit entry and marks the tip forwarded, and renamed once that commits: there
    /// is never a parcel without its entry.
    public func forward(_ id: TipID, _ req: ForwardRequest) throws -> ForwardReport {
        let t = try tip(id)
        let doc = try t.result.get()
        let partner = try partner(named: req.partner)
        let directory: URL
        let deliverTo: String?
        switch partner.delivery {
        case .outbox(let dir):
            (directory, deliverTo) = (URL(fileURLWithPath: dir), nil)
        case .tipgate(let url):
            // Not inside the vault: a parcel names the partner's server, and who the
            // organization works with is as secret as its tips (§11.1, §10.6).
            guard let outbox = req.outbox else {
                throw DeskError(
                    "a forward for \(partner.name)'s tipgate needs --outbox DIR",
                    hints: ["the directory the courier carries (a USB stick), then: tipdesk courier deliver DIR"])
            }
            (directory, deliverTo) = (outbox, url)
        }
        let admin = KeyAdmin(vault: vault, today: today)
        let (signer, keyring) = try admin.unlockForwarding(passphrase)
        let org = try KeyringPayload.decode(keyring.payload).rootKeyID
        let shared = try share(doc, req, id: id)
        let triage = t.triage ?? .untouched
        let fdoc: ForwardDocument
        do {
            fdoc = try ForwardDocument(
                org: org, day: t.day, body: shared.body, fields: shared.fields, lang: doc.lang, note: shared.note, category: triage.category,
                urgency: triage.urgency?.rawValue)
        } catch let e as FormatError { throw DeskError("cannot forward this: \(e.message)") }
        let (submission, signed) = try ForwardSealer.seal(fdoc, keyring: keyring.encoded(), forwardingKey: signer, to: partner.key)

        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let parcel = ForwardParcel(
            id: Random.tipID(), day: today, deliverTo: deliverTo, keyID: submission.keyID, sealed: submission.sealed)
        let file = directory.appendingPathComponent("\(signed.forwardIDHex).\(ForwardParcel.fileExtension)")
        let partial = directory.appendingPathComponent("\(signed.forwardIDHex).partial")
        let hash = Hex.encode(BLAKE2b.hash(submission.sealed))
        let names = shared.fields.keys.sorted()
        var written = false
        do {
            try db.write { w in
                // Read inside the transaction, so a concurrent triage is not overwritten.
                if let box = try w.record(id)?.box {
                    var (_, tr) = try RecordBox.open(box, id: id, key: dataKey)
                    if tr.status == .new || tr.status == .reviewing {
                        tr.status = .forwarded
                        try w.replaceBox(id, box: RecordBox.seal(doc, tr, id: id, key: dataKey))
                    }
                }
                try AuditLog.append(
                    .forward,
                    [
                        "ids": .strings([id.hex]), "partner": .string(partner.name),
                        "fields": .strings(names.filter(pageFields.contains)), "other_fields": .int(names.filter { !pageFields.contains($0) }.count),
                        "redacted_fields": .strings(shared.withheld.filter(pageFields.contains)),
                        "redacted_other_fields": .int(shared.withheld.filter { !pageFields.contains($0) }.count),
                        "redacted_phrases": .int(req.redactPhrases.count), "body_edited": .bool(req.body != nil), "note": .bool(req.note != nil),
                        "forward_id": .string(signed.forwardIDHex), "sent_blake2b": .string(hash),
                        "delivery": .string(deliverTo == nil ? "outbox" : "tipgate"),
                    ], day: today, key: dataKey, in: w)
                do { try DurableFile.writeNew(parcel.encoded(), to: partial) } catch let e as StoreError { throw DeskError(e.message) }
                written = true
            }
        } catch {
            if written { try? FileManager.default.removeItem(at: partial) }
            throw error
        }
        do { try DurableFile.rename(partial, to: file) } catch {
            throw DeskError(
                "the forward is recorded but its file could not be renamed: \(error)",
                hints: ["rename \(partial.path) to \(file.lastPathComponent) by hand"])
        }
        return ForwardReport(
            partner: partner.name, file: file, forwardID: signed.forwardIDHex, sharedFields: names, redactedFields: shared.withheld,
            redactedPhrases: req.redactPhrases.count, bodyEdited: req.body != nil, sentHash: hash)
    }

    /// Every forward this vault sent, from the audit log (§11.6), oldest first.
    public func forwards() throws -> [AuditEntry] { try auditEntries().filter { $0.action == .forward } }

    /// The partners whose categories include the tip's category (its triage category, or the
    /// rules' suggestion while it has none): the suggested routing `show` prints.
    public func suggestedPartners(for category: String?) throws -> [Partner] {
        guard let category else { return [] }
        return try partners().filter { $0.accepts(category) }
    }
}

/// A tip that arrived as a forward, checked again against the vault's known organizations
/// each time it is shown (§11.5), so adding the sender later verifies it.
public struct ReceivedForward: Sendable {
    public let verification: ForwardVerification
    public let document: ForwardDocument
    public let forwardID: String
}

extension VaultSession {
    /// The ids of the tips that arrived as forwards, for `list` and `search` to mark.
    public func receivedForwardIDs() throws -> Set<TipID> { try db.receivedForwardIDs() }

    public func receivedForward(_ id: TipID) throws -> ReceivedForward? {
        guard let box = try db.receivedForward(id), let rec = try db.record(id) else { return nil }
        let signed: SignedForward
        do {
            let plain = try dataKey.openReceivedForward(box, id: id)
            signed = try plain.withUnsafeBytes { try SignedForward.decode(Data($0)) }
        } catch { throw DeskError("the forward record of tip \(id) is damaged", hints: ["restore the vault from a backup"]) }
        guard let key = try vault.publicKeys().first(where: { $0.keyID == rec.keyID }) else {
            throw DeskError("the key that opened tip \(id) is no longer in the vault")
        }
        let known = try organizations().map(\.verifier)
        let v = ForwardVerifier.verify(signed, openedWith: key.publicKey, arrived: rec.day, known: known)
        let doc = try ForwardDocument.decode(signed.document)
        return ReceivedForward(verification: v, document: doc, forwardID: signed.forwardIDHex)
    }

    /// The box a received forward is kept in (`received_forward`), for import.
    static func boxReceivedForward(_ f: SignedForward, id: TipID, key: VaultDataKey) -> [UInt8] {
        var plain = [UInt8](f.encoded())
        defer { zero(&plain) }
        return plain.withUnsafeBytes { key.sealReceivedForward($0, id: id) }
    }

    /// Imports a forward carried as a file (an `outbox:` partner's delivery, §11.4). It must
    /// open, as a forward, with a key of this vault; nothing is imported otherwise. No server
    /// holds it, so it is stored acknowledged.
    func importParcel(_ p: ForwardParcel) throws -> ImportReport {
        do {
            guard case (.forward(let f), _) = try opener().openPlaintext(keyID: p.keyID, sealed: p.sealed) else {
                throw DeskError("this file holds a tip, not a forward", hints: ["a server's tips come in bundles: tipgate export"])
            }
            _ = try ForwardDocument.decode(f.document)
        } catch let e as CryptoError {
            throw DeskError(
                e.code == "no_matching_key" ? "no key in this vault matches this forward" : "this forward does not open: \(e.message)",
                hints: ["it is sealed to key \(p.keyID); it may be meant for another organization"])
        } catch let e as FormatError {
            throw DeskError("this forward is not valid: \(e.message)", hints: ["ask the sender to forward it again"])
        }
        return try importTips([SealedTip(id: p.id, keyID: p.keyID, day: p.day, sealed: p.sealed)], instance: carriedInstance, carried: true)
    }
}
