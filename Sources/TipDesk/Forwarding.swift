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

/// The witness's contact field (the page's `contact`, §3.2): withheld unless asked for.
let contactField = "contact"

/// The instance recorded for a forward imported from a file rather than from a server's
/// bundle: no server holds it, so there is nothing to acknowledge.
let carriedInstance = String(repeating: "0", count: 32)

extension VaultSession {
    /// Builds, signs, seals and writes one forward, and records it (SECURITY.md §11). The file
    /// is written inside the transaction that appends the `forward` audit entry and marks the
    /// tip forwarded, so there is never a forward without its entry.
    public func forward(_ id: TipID, _ req: ForwardRequest) throws -> ForwardReport {
        let t = try tip(id)
        let doc = try t.result.get()
        let partner = try partner(named: req.partner)
        let admin = KeyAdmin(vault: vault, today: today)
        let (signer, keyring) = try admin.unlockForwarding(passphrase)
        let org = try KeyringPayload.decode(keyring.payload).rootKeyID

        var fields = doc.fields
        var redactedFields = [String]()
        for f in req.redactFields {
            guard fields.removeValue(forKey: f) != nil else {
                throw DeskError(
                    "tip \(id) has no field \(TerminalText.preview(f, limit: 40))",
                    hints: [doc.fields.isEmpty ? "it has no fields" : "its fields: " + doc.fields.keys.sorted().joined(separator: ", ")])
            }
            redactedFields.append(f)
        }
        if !req.includeContact, fields.removeValue(forKey: contactField) != nil { redactedFields.append(contactField) }
        var body = req.body ?? doc.body
        for phrase in req.redactPhrases {
            guard !phrase.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw DeskError("a phrase to redact is empty") }
            var found = body.range(of: phrase, options: .caseInsensitive) != nil
            body = body.replacingOccurrences(of: phrase, with: redactionMark, options: .caseInsensitive)
            for (k, v) in fields where v.range(of: phrase, options: .caseInsensitive) != nil {
                found = true
                fields[k] = v.replacingOccurrences(of: phrase, with: redactionMark, options: .caseInsensitive)
            }
            // A phrase that matches nothing is most likely mistyped, and what it was meant to
            // hide would go out: refuse rather than send.
            guard found else {
                throw DeskError(
                    "the phrase \(TerminalText.preview(phrase, limit: 40)) does not occur in what would be shared",
                    hints: ["check its spelling against: tipdesk show \(id.hex.prefix(12))"])
            }
        }
        let triage = t.triage ?? .untouched
        let fdoc: ForwardDocument
        do {
            fdoc = try ForwardDocument(
                org: org, day: t.day, body: body, fields: fields, lang: doc.lang, note: req.note, category: triage.category,
                urgency: triage.urgency?.rawValue)
        } catch let e as FormatError { throw DeskError("cannot forward this: \(e.message)") }
        let (submission, signed) = try ForwardSealer.seal(fdoc, keyring: keyring.encoded(), forwardingKey: signer, to: partner.key)

        let directory: URL, deliverTo: String?
        switch partner.delivery {
        case .outbox(let dir):
            (directory, deliverTo) = (URL(fileURLWithPath: dir), nil)
        case .tipgate(let url):
            (directory, deliverTo) = (req.outbox ?? vault.directory.appendingPathComponent("outbox"), url)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let parcel = ForwardParcel(
            id: TipID(Hex.encode(Random.bytes(16)))!, day: today, deliverTo: deliverTo, keyID: submission.keyID, sealed: submission.sealed)
        let file = directory.appendingPathComponent("\(signed.forwardIDHex).\(ForwardParcel.fileExtension)")
        let hash = Hex.encode(BLAKE2b.hash(submission.sealed))
        let shared = fields.keys.sorted()
        var written = false
        do {
            try db.write { w in
                if var tr = t.triage, tr.status == .new || tr.status == .reviewing {
                    tr.status = .forwarded
                    try w.replaceBox(id, box: RecordBox.seal(doc, tr, id: id, key: dataKey))
                }
                try AuditLog.append(
                    .forward,
                    [
                        "ids": .strings([id.hex]), "partner": .string(partner.name), "fields": .strings(shared),
                        "redacted_fields": .strings(redactedFields.sorted()), "redacted_phrases": .int(req.redactPhrases.count),
                        "body_edited": .bool(req.body != nil), "note": .bool(req.note != nil), "forward_id": .string(signed.forwardIDHex),
                        "sent_blake2b": .string(hash), "delivery": .string(deliverTo == nil ? "outbox" : "tipgate"),
                    ], day: today, key: dataKey, in: w)
                do { try DurableFile.writeNew(parcel.encoded(), to: file) } catch let e as StoreError { throw DeskError(e.message) }
                written = true
            }
        } catch {
            if written { try? FileManager.default.removeItem(at: file) }
            throw error
        }
        return ForwardReport(
            partner: partner.name, file: file, forwardID: signed.forwardIDHex, sharedFields: shared, redactedFields: redactedFields.sorted(),
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
        let known = try organizations().map { ForwardVerifier.KnownOrg(name: $0.name, rootPublicKey: $0.root.publicKey) }
        let v = ForwardVerifier.verify(signed, openedWith: key.publicKey, known: known)
        let doc = try ForwardDocument.decode(signed.document)
        return ReceivedForward(verification: v, document: doc, forwardID: signed.forwardIDHex)
    }

    /// The box a received forward is kept in (`received_forward`), for import.
    static func boxReceivedForward(_ f: SignedForward, id: TipID, key: VaultDataKey) -> [UInt8] {
        var plain = [UInt8](f.encoded())
        defer { zero(&plain) }
        return plain.withUnsafeBytes { key.sealReceivedForward($0, id: id) }
    }

    /// Imports a forward carried as a file (an `outbox:` partner's delivery). It must open
    /// with a key of this vault; nothing is imported otherwise.
    func importParcel(_ p: ForwardParcel) throws -> ImportReport {
        guard try opener().canOpen(p.keyID) else {
            throw DeskError(
                "no key in this vault matches this forward",
                hints: ["it is sealed to key \(p.keyID); it may be meant for another organization"])
        }
        let report = try importTips([SealedTip(id: p.id, keyID: p.keyID, day: p.day, sealed: p.sealed)], instance: carriedInstance)
        // No server holds a carried forward, so there is nothing to acknowledge.
        try db.write { w in try w.markAcked(report.opened > 0 ? [p.id] : []) }
        return report
    }
}
