import Foundation
import TipCore
import TipCrypto
import TipStore

/// How a partner receives forwards (SECURITY.md §11.1).
public enum Delivery: Equatable, Sendable, CustomStringConvertible {
    /// A file written to this directory, to carry by hand.
    case outbox(String)
    /// The partner's own tipgate at this https:// address, reached by `tipdesk courier deliver`.
    case tipgate(String)

    public init(parsing text: String) throws {
        // A tipgate address meets a parcel's `deliver_to` rule (§11.4, `ForwardParcel.isDeliverTo`),
        // so nothing is logged as sent that the courier would then refuse; a path has no
        // control, space or bidi control either.
        let clean = !text.unicodeScalars.contains {
            $0.properties.isWhitespace || $0.value < 0x20 || (0x7f...0x9f).contains($0.value) || TerminalText.isBidiControl($0)
        }
        if text.hasPrefix("outbox:"), text.count > 7, clean {
            // Absolute, so it does not depend on where `forward` runs.
            self = .outbox(URL(fileURLWithPath: String(text.dropFirst(7))).standardizedFileURL.path)
        } else if text.hasPrefix("tipgate:"), text.count > 16, ForwardParcel.isDeliverTo(String(text.dropFirst(8))) {
            var url = String(text.dropFirst(8))
            while url.hasSuffix("/") { url.removeLast() }
            self = .tipgate(url)
        } else {
            throw DeskError(
                "\(TerminalText.preview(text, limit: 60)) is not a delivery method",
                hints: ["give outbox:DIR (a file to carry) or tipgate:https://HOST (the partner's own tipgate)"])
        }
    }

    public var description: String {
        switch self {
        case .outbox(let d): "outbox:\(d)"
        case .tipgate(let u): "tipgate:\(u)"
        }
    }
}

/// A partner organization forwards go to (SECURITY.md §11.1).
public struct Partner: Equatable, Sendable {
    public let name: String
    /// The partner's intake key forwards are sealed to.
    public let key: PublicKeyDocument
    /// `root:…`, when the key was taken from the partner's signed keyring.
    public let rootFingerprint: String?
    public let categories: [String]
    public let delivery: Delivery
    public let added: Day

    public func accepts(_ category: String?) -> Bool { category.map(categories.contains) ?? false }
}

/// What `addOrganization` did: added an organization, remembered a newer keyring of one
/// already known (§11.5 step 6), or found that its root signed two keyrings of its newest
/// serial (step 7).
public enum OrganizationChange: Equatable, Sendable {
    case added
    case newerKeyring
    case conflictingKeyring
}

/// An organization whose forwards this vault can verify (SECURITY.md §11.5).
public struct KnownOrganization: Equatable, Sendable {
    public let name: String
    public let root: RootKeyDocument
    public let added: Day
    /// The newest of its keyrings this vault has seen (`orgs add --keyring`, or carried by a
    /// forward it holds), which retires forwarding keys it no longer certifies (§11.5 step 6).
    public var newest: ForwardVerifier.NewestKeyring? = nil

    var verifier: ForwardVerifier.KnownOrg { .init(name: name, rootPublicKey: root.publicKey, newest: newest) }
}

/// The two registries, each one box under the data key (§11.1), read and rewritten whole.
struct RegistryFile: Codable {
    struct PartnerWire: Codable {
        var name: String
        var public_key: String
        var root_fingerprint: String?
        var categories: [String]
        var delivery: String
        var added: String
    }

    struct OrgWire: Codable {
        var name: String
        var root_public_key: String
        var added: String
    }

    var v: Int
    var partners: [PartnerWire]?
    var orgs: [OrgWire]?
    /// In the orgs registry: the newest keyring seen of each root (§11.5 step 6), kept when its
    /// organization is removed (`NewestKeyrings.swift`).
    var keyrings: [KeyringWire]?
}

extension VaultSession {
    static let maxNameBytes = 64

    func readRegistry(_ name: String, from box: [UInt8]?) throws -> RegistryFile {
        guard let box else { return RegistryFile(v: 1) }
        do {
            let plain = try dataKey.openRegistry(box, name: name)
            let r = try plain.withUnsafeBytes { try JSONDecoder().decode(RegistryFile.self, from: Data($0)) }
            guard r.v == 1 else { throw DeskError("the vault's \(name) registry has an unknown version") }
            return r
        } catch let e as DeskError { throw e } catch {
            throw DeskError("the vault's \(name) registry does not decrypt: it was altered", hints: ["restore the vault from a backup"])
        }
    }

    func writeRegistry(_ name: String, _ r: RegistryFile, in w: VaultWriter) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var plain = try enc.encode(r)
        defer { plain.resetBytes(in: 0..<plain.count) }
        try w.setRegistry(name, box: plain.withUnsafeBytes { dataKey.sealRegistry($0, name: name) })
    }

    /// Reads, changes and rewrites one registry in one transaction, with its audit entry.
    func updateRegistry(
        _ name: String, audit: AuditAction, _ details: [String: AuditValue], _ change: (inout RegistryFile) throws -> Void
    ) throws {
        try db.write { w in
            var r = try readRegistry(name, from: try w.registry(name))
            try change(&r)
            try writeRegistry(name, r, in: w)
            try AuditLog.append(audit, details, day: today, key: dataKey, in: w)
        }
    }

    static func checkName(_ name: String, what: String) throws {
        guard (1...maxNameBytes).contains(name.utf8.count),
            name.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || $0.properties.numericType != nil || "-_. ".unicodeScalars.contains($0) }),
            name.first != " ", name.last != " "
        else {
            throw DeskError(
                "\(TerminalText.preview(name, limit: 40)) is not a valid \(what) name",
                hints: ["use 1 to \(maxNameBytes) bytes of letters, digits, spaces, '-', '_' or '.'"])
        }
    }

    // MARK: Partners

    public func partners() throws -> [Partner] {
        try readRegistry("partners", from: try db.registry("partners")).partners.map { try $0.map(Self.partner) } ?? []
    }

    public func partner(named name: String) throws -> Partner {
        let all = try partners()
        guard let p = all.first(where: { $0.name.lowercased() == name.lowercased() }) else {
            throw DeskError(
                "no partner named \(TerminalText.preview(name, limit: 40))",
                hints: all.isEmpty
                    ? ["add one with: tipdesk partners add NAME --public-key FILE --fingerprint FP …"]
                    : ["the partners: " + all.map(\.name).joined(separator: ", ")])
        }
        return p
    }

    static func partner(_ w: RegistryFile.PartnerWire) throws -> Partner {
        guard let pk = StrictBase64.decode(w.public_key), pk.count == 32, let day = Day(w.added) else {
            throw DeskError("the vault's partner registry is damaged")
        }
        return Partner(
            name: w.name, key: KeyIdentity.document(for: Array(pk)), rootFingerprint: w.root_fingerprint, categories: w.categories,
            delivery: try Delivery(parsing: w.delivery), added: day)
    }

    /// Adds a partner whose key the reviewer confirmed: `fingerprint` must be the key's own
    /// (§2.1) for a key document, or the root's (`root:…`) for a signed keyring, which must
    /// verify against it; the partner's current key on that keyring is the one used.
    public func addPartner(
        name: String, publicKey: Data?, keyring: Data?, fingerprint: String, categories: [String], delivery: Delivery
    ) throws -> Partner {
        try Self.checkName(name, what: "partner")
        let taxonomy = try desk.taxonomy()
        for c in categories where !taxonomy.contains(c) {
            throw DeskError(
                "\(TerminalText.preview(c, limit: 40)) is not a category of this vault",
                hints: ["the categories: " + taxonomy.categories.map(\.id).joined(separator: ", ")])
        }
        let key: PublicKeyDocument
        let root: String?
        if let keyring {
            guard RootIdentity.normalize(fingerprint) != nil else {
                throw DeskError("a keyring is confirmed by its root fingerprint, root:…", hints: ["ask the partner to read it to you over a channel you trust"])
            }
            let payload: KeyringPayload
            do { (_, payload) = try KeyringSigner.verify(keyring, pin: .fingerprint(fingerprint), today: today) } catch let e as FormatError {
                throw DeskError(
                    e.code == "wrong_root"
                        ? "the partner's keyring is not signed by the root fingerprint you confirmed" : "the partner's keyring does not verify: \(e.message)",
                    hints: ["refused: check the fingerprint with the partner over a channel you trust, and ask for its current keyring"])
            }
            guard let current = payload.current(on: today) else { throw DeskError("the partner's keyring has no current key") }
            key = KeyIdentity.document(for: current.publicKey)
            root = RootIdentity.document(for: try rootKey(of: keyring)).fingerprint
        } else if let publicKey {
            do { key = try KeyIdentity.verifiedDocument(publicKey) } catch let e as FormatError {
                throw DeskError("the partner's public key document is not valid: \(e.message)")
            }
            guard Self.normalizeKeyFingerprint(fingerprint) == Self.normalizeKeyFingerprint(key.fingerprint) else {
                throw DeskError(
                    "the fingerprint you gave does not match the partner's key",
                    hints: ["refused: the key may have been swapped on the way; check the fingerprint with the partner over a channel you trust"])
            }
            root = nil
        } else {
            throw DeskError("give the partner's --public-key or --keyring")
        }
        let partner = Partner(name: name, key: key, rootFingerprint: root, categories: categories, delivery: delivery, added: today)
        try updateRegistry(
            "partners", audit: .partner,
            ["change": .string("add"), "name": .string(name), "key_id": .string(key.keyID.hex), "delivery": .string(delivery.description)]
        ) { r in
            var list = r.partners ?? []
            guard !list.contains(where: { $0.name.lowercased() == name.lowercased() }) else {
                throw DeskError("a partner named \(name) already exists", hints: ["remove it first: tipdesk partners remove \(name)"])
            }
            list.append(
                .init(
                    name: name, public_key: Data(key.publicKey).base64EncodedString(), root_fingerprint: root, categories: categories,
                    delivery: delivery.description, added: today.text))
            r.partners = list
        }
        return partner
    }

    public func removePartner(_ name: String) throws {
        let p = try partner(named: name)
        try updateRegistry("partners", audit: .partner, ["change": .string("remove"), "name": .string(p.name), "key_id": .string(p.key.keyID.hex)]) {
            r in r.partners?.removeAll { $0.name == p.name }
        }
    }

    static func normalizeKeyFingerprint(_ s: String) -> String { s.lowercased().filter { $0 != " " } }

    private func rootKey(of keyring: Data) throws -> [UInt8] { try SignedDocument.decode(keyring).rootPublicKey }

    // MARK: Known organizations

    public func organizations() throws -> [KnownOrganization] {
        let r = try readRegistry("orgs", from: try db.registry("orgs"))
        let newest = try r.newestKeyrings()
        return try (r.orgs ?? []).map { w in
            guard let pk = StrictBase64.decode(w.root_public_key), pk.count == 32, let day = Day(w.added) else {
                throw DeskError("the vault's organization registry is damaged")
            }
            return KnownOrganization(name: w.name, root: RootIdentity.document(for: Array(pk)), added: day, newest: newest.byRoot[Array(pk)])
        }
    }

    /// Adds an organization whose forwards this vault will verify: its root key, from its root
    /// document or its signed keyring, confirmed by the root fingerprint.
    @discardableResult
    public func addOrganization(name: String, rootDocument: Data?, keyring: Data?, fingerprint: String) throws -> (
        KnownOrganization, OrganizationChange
    ) {
        try Self.checkName(name, what: "organization")
        guard let wanted = RootIdentity.normalize(fingerprint) else {
            throw DeskError(
                "an organization is confirmed by its root fingerprint, root:…", hints: ["ask it to read the fingerprint to you over a channel you trust"])
        }
        let root: RootKeyDocument
        var newest: ForwardVerifier.NewestKeyring?
        if let keyring {
            do {
                let (signed, payload) = try KeyringSigner.verify(keyring, pin: .fingerprint(fingerprint))
                root = RootIdentity.document(for: signed.rootPublicKey)
                newest = .init(serial: payload.serial, forwardingKey: payload.forwardingKey?.publicKey)
            } catch let e as FormatError {
                throw DeskError(
                    e.code == "wrong_root" ? "the keyring is not signed by the root fingerprint you confirmed" : "the keyring does not verify: \(e.message)",
                    hints: ["refused: check the fingerprint with the organization over a channel you trust"])
            }
        } else if let rootDocument {
            do { root = try RootIdentity.verifiedDocument(rootDocument) } catch let e as FormatError {
                throw DeskError("the root key document is not valid: \(e.message)")
            }
            guard RootIdentity.normalize(root.fingerprint) == wanted else {
                throw DeskError(
                    "the fingerprint you gave does not match the organization's root key",
                    hints: ["refused: check the fingerprint with the organization over a channel you trust"])
            }
        } else {
            throw DeskError("give the organization's --root-key or --keyring")
        }
        // The same organization again with a keyring: remember it if it is newer (§11.5 step 6)
        // or another of the newest serial (step 7).
        if keyring != nil, let same = try organizations().first(where: { $0.name.lowercased() == name.lowercased() && $0.root == root }) {
            guard let ring = newest else { throw DeskError("internal error: a keyring without its payload") }
            let merged = same.newest.map { $0.merged(with: ring) } ?? ring
            if merged == same.newest, let n = same.newest, n.conflicting, n.serial == ring.serial {
                throw DeskError(
                    "\(same.name)'s keyring \(n.serial) is already marked conflicting: its root signed two",
                    hints: ["a keyring of a higher serial from \(same.name) replaces it: tipdesk orgs add \(same.name) --keyring FILE --fingerprint root:…"])
            }
            guard merged != same.newest else {
                throw DeskError(
                    "\(same.name) is already known, with a keyring as new as this one",
                    hints: ["a newer keyring of theirs updates it: tipdesk orgs add \(same.name) --keyring FILE --fingerprint root:…"])
            }
            var seen = NewestKeyrings()
            seen.add(merged, root: root.publicKey)
            try db.write { w in try rememberNewestKeyrings(seen, in: w) }
            let change: OrganizationChange = merged.serial == same.newest?.serial ? .conflictingKeyring : .newerKeyring
            return (KnownOrganization(name: same.name, root: same.root, added: same.added, newest: merged), change)
        }
        // What is known of its keyrings already: the forwards held from this root (it was
        // unknown, or removed and added again), and the record kept since a removal.
        var known = NewestKeyrings()
        if let ring = newest { known.add(ring, root: root.publicKey) }
        if let carried = try newestCarriedKeyring(of: root.publicKey) { known.add(carried, root: root.publicKey) }
        try db.write { w in
            var r = try readRegistry("orgs", from: try w.registry("orgs"))
            var list = r.orgs ?? []
            guard !list.contains(where: { $0.name.lowercased() == name.lowercased() }) else {
                throw DeskError("an organization named \(name) already exists", hints: ["remove it first: tipdesk orgs remove \(name)"])
            }
            guard !list.contains(where: { StrictBase64.decode($0.root_public_key).map(Array.init) == root.publicKey }) else {
                throw DeskError("this root is already known under another name", hints: ["see them with: tipdesk orgs list"])
            }
            list.append(.init(name: name, root_public_key: Data(root.publicKey).base64EncodedString(), added: today.text))
            r.orgs = list
            // What it adds to the record kept since a removal: a conflict found only now, among
            // the forwards held and the keyring given, is audited as import would (§11.5 step 7).
            let found = try r.record(known).filter(\.conflicting)
            newest = try r.newestKeyrings().byRoot[root.publicKey]
            try writeRegistry("orgs", r, in: w)
            try AuditLog.append(
                .org, ["change": .string("add"), "name": .string(name), "root_key_id": .string(root.keyID.hex)], day: today, key: dataKey, in: w)
            for c in found { try audit(c, of: name, in: w) }
        }
        return (KnownOrganization(name: name, root: root, added: today, newest: newest), .added)
    }

    public func removeOrganization(_ name: String) throws {
        let all = try organizations()
        guard let o = all.first(where: { $0.name.lowercased() == name.lowercased() }) else {
            throw DeskError("no organization named \(TerminalText.preview(name, limit: 40))", hints: ["see them with: tipdesk orgs list"])
        }
        try updateRegistry("orgs", audit: .org, ["change": .string("remove"), "name": .string(o.name), "root_key_id": .string(o.root.keyID.hex)]) {
            r in r.orgs?.removeAll { $0.name == o.name }
        }
    }
}
