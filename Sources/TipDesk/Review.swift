import Foundation
import TipCore
import TipCrypto
import TipStore

/// A tip as the reviewer sees it, decrypted in memory. Never written to disk by these commands
/// (SECURITY.md §3.6), except by the explicit `tipdesk show --out`.
public struct OpenedTip: Sendable {
    public let id: TipID
    public let day: Day
    public let keyID: KeyID
    public let result: Result<TipDocument, DeskError>
    public var instance: String
    /// The padded length P (§3.3).
    public var sizeClass: Int
    public var acked: Bool
    /// The reviewer's triage; nil while the tip has not opened.
    public var triage: Triage?

    public init(
        id: TipID, day: Day, keyID: KeyID, result: Result<TipDocument, DeskError>, instance: String = "", sizeClass: Int = 0,
        acked: Bool = false, triage: Triage? = nil
    ) {
        self.id = id
        self.day = day
        self.keyID = keyID
        self.result = result
        self.instance = instance
        self.sizeClass = sizeClass
        self.acked = acked
        self.triage = triage
    }

    public var document: TipDocument? { try? result.get() }
}

/// What the rules suggest for one tip (shown, never applied by import).
public struct SuggestedTriage: Equatable, Sendable {
    public let id: TipID
    public let suggestion: Rules.Suggestion

    /// Most urgent first (no urgency counts as low), then by id: a total order, ids being unique.
    public static func precedes(_ a: SuggestedTriage, _ b: SuggestedTriage) -> Bool {
        let ua = (a.suggestion.urgency ?? .low).rank
        let ub = (b.suggestion.urgency ?? .low).rank
        return ua != ub ? ua < ub : a.id < b.id
    }

    /// The first `k` of `all` in `precedes` order: `all.sorted(by: precedes).prefix(k)`, in
    /// one pass. An import shows 20 of perhaps 100k (issue 9: sorting them all took 22 ms).
    public static func first(_ k: Int, of all: [SuggestedTriage]) -> [SuggestedTriage] {
        var first = [SuggestedTriage]()
        guard k > 0 else { return first }
        for s in all where first.count < k || precedes(s, first[k - 1]) {
            first.insert(s, at: first.firstIndex { precedes(s, $0) } ?? first.count)
            if first.count > k { first.removeLast() }
        }
        return first
    }
}

public struct ImportReport: Equatable, Sendable {
    public let instance: String
    public let added: Int
    public let alreadyHad: Int
    public let conflicts: [TipID]
    /// Key ids in the bundle that no key in this vault can open.
    public let unknownKeys: [KeyID]
    /// Key ids in the bundle that no keyring this vault signed ever listed: the server may
    /// have handed witnesses a key of its own (SECURITY.md §2.6). Empty until the vault has
    /// signed a keyring.
    public let unlistedKeys: [KeyID]
    /// New tips that opened and were re-encrypted under the data key.
    public var opened = 0
    /// New or held tips that did not open, with the error code (kept sealed for a retry).
    public var unopened: [TipID] = []
    /// Tips held sealed from an earlier import that opened now (a key arrived since).
    public var reopened = 0
    /// What the rules suggest for the tips that opened now, for those where they suggest anything.
    public var suggestions: [SuggestedTriage] = []
    /// Tips that opened now and are forwards from another organization (SECURITY.md §11.5).
    public var forwards: [TipID] = []
    /// Known organizations whose root this import showed to have signed two keyrings of one
    /// serial certifying different forwarding keys (SECURITY.md §11.5 step 7).
    public var keyringConflicts: [String] = []
}

/// The reviewer's operations, shared by the CLI and the tests.
public struct Desk {
    public let vault: Vault
    /// The UTC day recorded in audit entries, notes and acks.
    public var today: Day

    public init(vault: Vault, today: Day = .today) {
        self.vault = vault
        self.today = today
    }

    /// Unlocks the data key (and, for a vault with tips from before §10, the intake keys, to
    /// move those tips into records once). Every command that reads tips starts here.
    public func session(_ passphrase: SecureBytes) throws -> VaultSession {
        try settled(VaultSession(vault: vault, passphrase: passphrase, today: today))
    }

    /// `s`, once the tips a vault imported before §10 are moved into records (done once, at
    /// the first unlock that finds them).
    func settled(_ s: VaultSession) throws -> VaultSession {
        if try s.db.unrecordedSealedCount() > 0 { _ = try s.reopen(auditAction: .reopen) }
        return s
    }

    /// Finds one tip by id or unique id prefix (at least 6 hex digits).
    public func find(_ idOrPrefix: String) throws -> TipID {
        let p = idOrPrefix.lowercased()
        guard p.utf8.count >= 6, p.utf8.count <= 32, Hex.decode(p.utf8.count % 2 == 0 ? p : p + "0") != nil else {
            throw DeskError("\(TerminalText.preview(idOrPrefix, limit: 40)) is not a tip id", hints: ["give at least 6 hex digits of an id from: tipdesk list"])
        }
        let found = try vault.database().ids(prefix: p)
        guard let first = found.first else { throw DeskError("no tip with id \(p)", hints: ["see the ids with: tipdesk list"]) }
        guard found.count == 1 else { throw DeskError("more than one tip starts with \(p)", hints: ["give more digits of the id"]) }
        return first
    }

    /// The categories of this vault: `VAULT/taxonomy.json` if the reviewer made one, else the
    /// seeded list.
    public func taxonomy() throws -> Taxonomy {
        guard let data = FileManager.default.contents(atPath: vault.taxonomyURL.path) else { return .seeded }
        do { return try Taxonomy.decode(data) } catch let e as DeskError {
            throw DeskError("the vault's taxonomy.json: \(e.message)", hints: e.hints)
        }
    }

    /// The triage rules: `VAULT/rules.json` if the reviewer made one (checked against the
    /// taxonomy: the reviewer keeps both), else the bundled rules, whose categories may be
    /// missing from an edited taxonomy (`Suggester` drops those).
    public func rules() throws -> Rules {
        let taxonomy = try taxonomy()
        guard let data = FileManager.default.contents(atPath: vault.rulesURL.path) else { return try Rules.bundled(taxonomy: nil) }
        do { return try Rules.decode(data, taxonomy: taxonomy) } catch let e as DeskError {
            throw DeskError("the vault's rules.json: \(e.message)", hints: e.hints)
        }
    }

    public func suggester() throws -> Suggester { Suggester(rules: try rules(), taxonomy: try taxonomy()) }

    /// The reviewer-facing error for a tip that did not open, from the code stored with it.
    static func openError(_ code: String, keyID: KeyID) -> DeskError {
        switch code {
        case "no_matching_key":
            DeskError("no key matches this tip", hints: ["it is sealed to key \(keyID), which this vault does not hold"])
        case "decryption_failed": DeskError("this tip could not be decrypted: it was altered or damaged")
        case "bad_padding": DeskError("this tip could not be read: the decrypted tip has invalid padding")
        default: DeskError("this tip decrypted but is not a valid v1 tip: \(code)")
        }
    }
}

/// The rules' suggestions, limited to the categories of the vault's taxonomy.
public struct Suggester: Sendable {
    public let rules: Rules
    public let taxonomy: Taxonomy

    public func suggest(_ doc: TipDocument) -> Rules.Suggestion {
        var s = rules.suggest(doc)
        if let c = s.category, !taxonomy.contains(c) { s.category = nil }
        return s
    }
}

extension Vault {
    var taxonomyURL: URL { directory.appendingPathComponent("taxonomy.json") }
    var rulesURL: URL { directory.appendingPathComponent("rules.json") }
}
