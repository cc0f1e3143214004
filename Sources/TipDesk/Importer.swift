import Dispatch
import Foundation
import TipCore
import TipCrypto
import TipStore

extension Desk {
    /// Imports a bundle (SECURITY.md §5, §10.2). A damaged bundle is refused whole. Each new tip
    /// is opened once, on all cores, and stored as a record encrypted under the data key; a tip
    /// that does not open keeps its sealed bytes for a retry. Everything is written in one
    /// transaction, with its audit entry, so a second import of the same bundle, or of a
    /// larger one after an interrupted import, adds each tip exactly once.
    public func importBundle(at url: URL, passphrase: SecureBytes) throws -> ImportReport {
        guard let data = Workers.contents(of: url.path) else {
            throw DeskError("cannot read the bundle \(url.path)")
        }
        // A forward carried as a file (§11.4) rather than a server's bundle.
        if ForwardParcel.looksLikeParcel(data) {
            let parcel: ForwardParcel
            do { parcel = try ForwardParcel.decode(data) } catch let e as FormatError {
                throw DeskError("\(url.lastPathComponent) is not a valid forward: \(e.message)", hints: ["ask the sender to forward it again"])
            }
            return try session(passphrase).importParcel(parcel)
        }
        // The passphrase is stretched (Argon2id, one core) while the bundle is checked on the
        // others, when unlocking only reads: the data key exists. A vault made before §10 makes
        // its data key at the first unlock, so it unlocks after the check, as before; and the
        // one-time move of its old tips into records (`settled`) waits for the check too. A
        // damaged bundle is reported first and leaves the vault as it was.
        let unlocking =
            FileManager.default.fileExists(atPath: vault.dataKeyURL.path)
            ? Beside { try VaultSession(vault: self.vault, passphrase: passphrase, today: self.today) } : nil
        // Records are read on all cores, beside the checksum over the whole bundle.
        let decoded = Result {
            try ExportBundle.decode(data, digest: { BLAKE2b.hash($0) }) { n, body in
                Workers.perform(iterations: n, body)
            }
        }
        let unlocked = unlocking.map { u in Result { try u.value() } }
        let header: ExportBundle.Header
        let tips: [SealedTip]
        do { (header, tips) = try decoded.get() } catch let e as FormatError {
            throw DeskError("\(url.lastPathComponent) is not a valid bundle: \(e.message)", hints: ["export it again with: tipgate export --all"])
        }
        let s = try settled(unlocked?.get() ?? VaultSession(vault: vault, passphrase: passphrase, today: today))
        return try s.importTips(tips, instance: header.instance)
    }

    /// Retries every tip held sealed (`tipdesk reopen`), after a key arrived.
    public func reopen(passphrase: SecureBytes) throws -> ReopenReport {
        try session(passphrase).reopen(auditAction: .reopen)
    }
}

public struct ReopenReport: Equatable, Sendable {
    /// Tips that opened now.
    public var opened = 0
    /// Tips still sealed.
    public var stillSealed: [TipID] = []
    public var suggestions: [SuggestedTriage] = []
    /// Known organizations whose keyrings the forwards opened now showed in conflict (§11.5
    /// step 7), as `ImportReport.keyringConflicts`.
    public var keyringConflicts: [String] = []
}

extension VaultSession {
    /// The result of opening one sealed tip and re-encrypting it.
    struct Outcome: Sendable {
        let hash: String
        let box: [UInt8]?
        let code: String?
        let suggestion: Rules.Suggestion?
        /// For a forward from another organization (§11.5): its signed form, boxed.
        var forward: [UInt8]? = nil
        /// For a forward: the keyring it carried, if its root signed it (§11.5 step 6).
        var learned: (root: [UInt8], keyring: ForwardVerifier.NewestKeyring)? = nil
    }

    /// Opens and re-encrypts `tips` on all cores. Nothing is written here.
    func openAndSeal(_ tips: [SealedTip], label: String) throws -> [Outcome] {
        let open = try opening(tips)
        let progress = ProgressMeter(label, total: tips.count)
        defer { progress.finish() }
        // One locked buffer per chunk, reused for every tip of it (issue 9's profile).
        return Parallel.map(tips.count, progress: progress, scratch: { SecureBytes(count: 64 << 10) }, open)
    }

    /// As `openAndSeal`, in the background: the caller takes each outcome, in order, when it
    /// is ready, and MUST call `finish` on the stream when done or failing.
    func openingAndSealing(_ tips: [SealedTip], progress: ProgressMeter) throws -> ParallelStream<Outcome> {
        ParallelStream(tips.count, progress: progress, scratch: { SecureBytes(count: 64 << 10) }, try opening(tips))
    }

    /// What opens tip `i` of `tips` (§3.6) and re-encrypts it under the data key (§10.2).
    private func opening(_ tips: [SealedTip]) throws -> @Sendable (Int, inout SecureBytes) -> Outcome {
        let opener = try tips.isEmpty ? TipOpener(keys: []) : opener()
        let key = dataKey
        let rules = try desk.suggester()
        return { i, scratch in
            let t = tips[i]
            let hash = Hex.encode(BLAKE2b.hash(t.sealed))
            do {
                let doc: TipDocument
                var forward: [UInt8]?
                var learned: (root: [UInt8], keyring: ForwardVerifier.NewestKeyring)?
                switch try opener.openPlaintext(keyID: t.keyID, sealed: t.sealed, scratch: &scratch).0 {
                case .tip(let d): doc = d
                case .forward(let f):
                    // Stored as a tip with what was shared; who sent it is checked at show.
                    doc = try ForwardDocument.decode(f.document).tip
                    forward = Self.boxReceivedForward(f, id: t.id, key: key)
                    // The sender's keyring, for its newest serial (§11.5 step 6).
                    learned = ForwardVerifier.carriedKeyring(f)
                }
                let s = rules.suggest(doc)
                return Outcome(
                    hash: hash, box: RecordPlaintext.sealUntouched(doc, id: t.id, key: key), code: nil,
                    suggestion: s.category == nil && s.urgency == nil ? nil : s, forward: forward, learned: learned)
            } catch let e as CryptoError {
                return Outcome(hash: hash, box: nil, code: e.code, suggestion: nil)
            } catch let e as FormatError {
                return Outcome(hash: hash, box: nil, code: e.code, suggestion: nil)
            } catch {
                return Outcome(hash: hash, box: nil, code: "unreadable", suggestion: nil)
            }
        }
    }

    /// `carried`: tips that came as files, not from a server (§11.4); those that open are
    /// stored acknowledged, in the same transaction, as there is no server to acknowledge to.
    func importTips(_ tips: [SealedTip], instance: String, carried: Bool = false) throws -> ImportReport {
        let held = try db.heldHashes()
        // The tips to open, and each tip's place among them (-1: held, not opened again).
        var fresh = [SealedTip]()
        var freshAt = [Int]()
        if held.isEmpty {
            // A first import: every tip is new (and the bundle's array is not copied).
            fresh = tips
            freshAt = Array(tips.indices)
        } else {
            freshAt = [Int](repeating: -1, count: tips.count)
            for (i, t) in tips.enumerated() where held[t.id] == nil {
                freshAt[i] = fresh.count
                fresh.append(t)
            }
        }
        let retry = try db.sealedTips()
        var added = 0
        var alreadyHad = 0
        var opened = 0
        var reopened = 0
        var conflicts = [TipID]()
        var unopened = [TipID]()
        var suggestions = [SuggestedTriage]()
        var forwards = [TipID]()
        // The newest keyring of each root that the forwards carried (§11.5 step 6), and the
        // organizations whose keyrings this import found in conflict (step 7).
        var seen = NewestKeyrings()
        var keyringConflicts = [String]()
        let progress = ProgressMeter("importing", total: retry.count + fresh.count)
        defer { progress.finish() }
        try db.write { w in
            // The retried tips, then the new ones, are opened on all cores while this thread
            // writes each outcome as soon as it is ready, in the order a serial import would.
            // The transaction (and so the write lock) is held from the first tip opened.
            let outcomes = try openingAndSealing(retry.isEmpty ? fresh : retry.map(\.tip) + fresh, progress: progress)
            defer { outcomes.finish() }
            for (t, _) in retry {
                let o = outcomes.next()
                guard let rec = try w.record(t.id), !rec.opened else { continue }
                if let box = o.box {
                    try w.setOpened(t.id, box: box)
                    if let f = o.forward {
                        try w.insertReceivedForward(t.id, box: f)
                        forwards.append(t.id)
                    }
                    reopened += 1
                    seen.add(o.learned)
                    if let s = o.suggestion { suggestions.append(SuggestedTriage(id: t.id, suggestion: s)) }
                } else {
                    try w.setOpenError(t.id, o.code ?? "unreadable")
                }
            }
            for (i, t) in tips.enumerated() {
                let o = freshAt[i] >= 0 ? outcomes.next() : nil
                if let rec = try w.record(t.id) {
                    // Hashes, not bytes: a tip that opened keeps only the hash of its sealed bytes.
                    let incoming = o?.hash ?? Hex.encode(BLAKE2b.hash(t.sealed))
                    if rec.sealedBlake2b == incoming { alreadyHad += 1 } else { conflicts.append(t.id) }
                    continue
                }
                // Every id without a record was in `fresh`; records are never deleted.
                guard let o else { throw DeskError("internal error: tip \(t.id) was not opened") }
                try w.insert(
                    VaultRecord(
                        id: t.id, instance: instance, keyID: t.keyID, day: t.day, sizeClass: t.sealed.count - SealedBox.overhead,
                        sealedBlake2b: o.hash, openError: o.box == nil ? (o.code ?? "unreadable") : nil, acked: carried && o.box != nil,
                        box: o.box))
                if let f = o.forward {
                    try w.insertReceivedForward(t.id, box: f)
                    forwards.append(t.id)
                }
                added += 1
                if o.box == nil {
                    try w.keepSealed(t, instance: instance)
                    unopened.append(t.id)
                } else {
                    opened += 1
                    seen.add(o.learned)
                    if let s = o.suggestion { suggestions.append(SuggestedTriage(id: t.id, suggestion: s)) }
                }
            }
            keyringConflicts = try rememberNewestKeyrings(seen, in: w)
            if added > 0 || reopened > 0 { try w.countImport() }
            try AuditLog.append(
                .importBundle,
                [
                    "instance": .string(instance), "added": .int(added), "already_held": .int(alreadyHad), "conflicts": .strings(conflicts.map(\.hex)),
                    "opened": .int(opened), "unopened": .int(unopened.count), "reopened": .int(reopened),
                ], day: today, key: dataKey, in: w)
        }
        try db.checkpoint()
        let known = Set(try vault.publicKeys().map(\.keyID))
        let unknown = Set(tips.map(\.keyID)).subtracting(known).sorted()
        let listed = try db.listedKeys()
        let unlisted = listed.isEmpty ? [] : Set(tips.map(\.keyID)).subtracting(listed).sorted()
        var r = ImportReport(
            instance: instance, added: added, alreadyHad: alreadyHad, conflicts: conflicts, unknownKeys: unknown, unlistedKeys: unlisted)
        r.opened = opened
        r.unopened = unopened
        r.reopened = reopened
        r.suggestions = suggestions
        r.forwards = forwards
        r.keyringConflicts = keyringConflicts
        return r
    }

    /// Opens every tip held sealed: tips that failed before (a key may have arrived), and tips a
    /// vault imported before §10 (moved into records here, once).
    func reopen(auditAction: AuditAction) throws -> ReopenReport {
        let sealed = try db.sealedTips()
        let outcomes = try openAndSeal(sealed.map(\.tip), label: "opening")
        var r = ReopenReport()
        var migrated = 0
        var seen = NewestKeyrings()
        try db.write { w in
            for ((t, instance), o) in zip(sealed, outcomes) {
                if let rec = try w.record(t.id) {
                    if rec.opened {
                        try w.deleteSealed(t.id)
                        continue
                    }
                    if let box = o.box {
                        try w.setOpened(t.id, box: box)
                        if let f = o.forward { try w.insertReceivedForward(t.id, box: f) }
                    } else {
                        try w.setOpenError(t.id, o.code ?? "unreadable")
                    }
                } else {
                    try w.insert(
                        VaultRecord(
                            id: t.id, instance: instance, keyID: t.keyID, day: t.day, sizeClass: t.sealed.count - SealedBox.overhead,
                            sealedBlake2b: o.hash, openError: o.box == nil ? (o.code ?? "unreadable") : nil, acked: false, box: o.box))
                    if let f = o.forward { try w.insertReceivedForward(t.id, box: f) }
                    if o.box != nil { try w.deleteSealed(t.id) }
                    migrated += 1
                }
                if o.box != nil {
                    r.opened += 1
                    seen.add(o.learned)
                    if let s = o.suggestion { r.suggestions.append(SuggestedTriage(id: t.id, suggestion: s)) }
                } else {
                    r.stillSealed.append(t.id)
                }
            }
            r.keyringConflicts = try rememberNewestKeyrings(seen, in: w)
            if r.opened > 0 { try w.countImport() }
            try AuditLog.append(
                auditAction, ["opened": .int(r.opened), "unopened": .int(r.stillSealed.count), "migrated": .int(migrated)], day: today,
                key: dataKey, in: w)
        }
        try db.checkpoint()
        return r
    }
}
