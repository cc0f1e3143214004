import Foundation
import TipCore
import TipCrypto
import TipStore

/// The newest keyring seen of each root (SECURITY.md §11.5 step 6): the highest serial wins,
/// and two of the highest serial certifying different keys mark it conflicting (step 7),
/// whichever came first.
struct NewestKeyrings {
    private(set) var byRoot: [[UInt8]: ForwardVerifier.NewestKeyring] = [:]

    mutating func add(_ ring: ForwardVerifier.NewestKeyring, root: [UInt8]) {
        byRoot[root] = byRoot[root].map { $0.merged(with: ring) } ?? ring
    }

    /// The keyring an opened forward carried (`VaultSession.Outcome.learned`), if any.
    mutating func add(_ learned: (root: [UInt8], keyring: ForwardVerifier.NewestKeyring)?) {
        if let l = learned { add(l.keyring, root: l.root) }
    }
}

/// One root's newest keyring, as the orgs registry keeps it (§11.5 step 6): its `serial`, the
/// forwarding key it certifies (base64, absent if none), and `conflicting` (absent unless
/// true) once another keyring of that serial certifying another key was seen (step 7).
struct KeyringWire: Codable {
    var root_public_key: String
    var serial: Int
    var forwarding_key: String?
    var conflicting: Bool?
}

/// A change to a root's record of keyrings: a newer one, or a conflict in the newest serial.
struct KeyringChange {
    let root: [UInt8]
    let serial: Int
    let conflicting: Bool
}

extension RegistryFile {
    /// The record of newest keyrings, checked: one per root, a serial of at least 1, 32-byte
    /// keys. Anything else is a damaged registry.
    func newestKeyrings() throws -> NewestKeyrings {
        var out = NewestKeyrings()
        for k in keyrings ?? [] {
            guard let root = StrictBase64.decode(k.root_public_key).map(Array.init), root.count == 32, k.serial > 0, out.byRoot[root] == nil
            else { throw DeskError("the vault's organization registry is damaged") }
            var key: [UInt8]?
            if let text = k.forwarding_key {
                guard let b = StrictBase64.decode(text), b.count == 32 else { throw DeskError("the vault's organization registry is damaged") }
                key = Array(b)
            }
            guard k.conflicting != false else { throw DeskError("the vault's organization registry is damaged") }
            out.add(.init(serial: k.serial, forwardingKey: key, conflicting: k.conflicting == true), root: root)
        }
        return out
    }

    /// Records what each of `seen` adds to the record of its root: a newer keyring, or a
    /// conflict in the newest serial; returns the changes.
    mutating func record(_ seen: NewestKeyrings) throws -> [KeyringChange] {
        let current = try newestKeyrings()
        var changed = [KeyringChange]()
        for (root, ring) in seen.byRoot {
            let merged = current.byRoot[root].map { $0.merged(with: ring) } ?? ring
            guard merged != current.byRoot[root] else { continue }
            let wire = KeyringWire(
                root_public_key: Data(root).base64EncodedString(), serial: merged.serial,
                forwarding_key: merged.forwardingKey.map { Data($0).base64EncodedString() }, conflicting: merged.conflicting ? true : nil)
            var list = keyrings ?? []
            list.removeAll { StrictBase64.decode($0.root_public_key).map(Array.init) == root }
            list.append(wire)
            keyrings = list
            changed.append(KeyringChange(root: root, serial: merged.serial, conflicting: merged.conflicting))
        }
        return changed
    }
}

extension VaultSession {
    /// Remembers, for each known organization, the newest of its keyrings among `seen` if it is
    /// newer than the one on record (§11.5 step 6) or conflicts with it (step 7), in the
    /// caller's transaction, with an `org` audit entry each. Matched by root, never by name: a
    /// name may have changed hands. Roots of no known organization are left out: `orgs add`
    /// reads their forwards when it comes. Returns the names of the organizations whose newest
    /// keyrings now conflict, for a warning.
    @discardableResult
    func rememberNewestKeyrings(_ seen: NewestKeyrings, in w: VaultWriter) throws -> [String] {
        guard !seen.byRoot.isEmpty else { return [] }
        var r = try readRegistry("orgs", from: try w.registry("orgs"))
        var names = [[UInt8]: String]()
        for o in r.orgs ?? [] { if let root = StrictBase64.decode(o.root_public_key) { names[Array(root)] = o.name } }
        var known = NewestKeyrings()
        for (root, ring) in seen.byRoot where names[root] != nil { known.add(ring, root: root) }
        let changed = try r.record(known)
        guard !changed.isEmpty else { return [] }
        try writeRegistry("orgs", r, in: w)
        for c in changed.sorted(by: { names[$0.root]! < names[$1.root]! }) { try audit(c, of: names[c.root]!, in: w) }
        return changed.filter(\.conflicting).map { names[$0.root]! }.sorted()
    }

    /// The `org` audit entry of a change to an organization's record of keyrings (§11.5 steps
    /// 6-7): a newer keyring, or conflicting keyrings of its newest serial.
    func audit(_ c: KeyringChange, of name: String, in w: VaultWriter) throws {
        try AuditLog.append(
            .org,
            [
                "change": .string(c.conflicting ? "conflicting keyrings" : "newer keyring"), "name": .string(name),
                "root_key_id": .string(KeyIdentity.keyID(for: c.root).hex), "serial": .int(c.serial),
            ], day: today, key: dataKey, in: w)
    }

    /// The newest keyring of `root` among the forwards this vault holds (§11.5 step 6): an
    /// organization added after its forwards arrived, or removed and added again, starts from
    /// what they carried.
    func newestCarriedKeyring(of root: [UInt8]) throws -> ForwardVerifier.NewestKeyring? {
        var seen = NewestKeyrings()
        for id in try db.receivedForwardIDs() {
            guard let box = try db.receivedForward(id),
                let plain = try? dataKey.openReceivedForward(box, id: id),
                let f = try? plain.withUnsafeBytes({ try SignedForward.decode(Data($0)) }),
                let (r, ring) = ForwardVerifier.carriedKeyring(f), r == root
            else { continue }
            seen.add(ring, root: r)
        }
        return seen.byRoot[root]
    }
}
