import Foundation
import TipCore
import TipCrypto
import TipStore

/// The newest keyring seen of each root (SECURITY.md §11.5 step 6): the highest serial wins.
struct NewestKeyrings {
    private(set) var byRoot: [[UInt8]: ForwardVerifier.NewestKeyring] = [:]

    mutating func add(_ ring: ForwardVerifier.NewestKeyring, root: [UInt8]) {
        if ring.serial > (byRoot[root]?.serial ?? 0) { byRoot[root] = ring }
    }

    /// The keyring an opened forward carried (`VaultSession.Outcome.learned`), if any.
    mutating func add(_ learned: (root: [UInt8], keyring: ForwardVerifier.NewestKeyring)?) {
        if let l = learned { add(l.keyring, root: l.root) }
    }
}

/// One root's newest keyring, as the orgs registry keeps it (§11.5 step 6): its `serial` and
/// the forwarding key it certifies (base64, absent if none).
struct KeyringWire: Codable {
    var root_public_key: String
    var serial: Int
    var forwarding_key: String?
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
            out.add(.init(serial: k.serial, forwardingKey: key), root: root)
        }
        return out
    }

    /// Records each of `seen` that is newer than the record of its root; returns the roots
    /// and serials recorded.
    mutating func record(_ seen: NewestKeyrings) throws -> [(root: [UInt8], serial: Int)] {
        let current = try newestKeyrings()
        var changed = [(root: [UInt8], serial: Int)]()
        for (root, ring) in seen.byRoot where ring.serial > (current.byRoot[root]?.serial ?? 0) {
            let wire = KeyringWire(
                root_public_key: Data(root).base64EncodedString(), serial: ring.serial,
                forwarding_key: ring.forwardingKey.map { Data($0).base64EncodedString() })
            var list = keyrings ?? []
            list.removeAll { StrictBase64.decode($0.root_public_key).map(Array.init) == root }
            list.append(wire)
            keyrings = list
            changed.append((root, ring.serial))
        }
        return changed
    }
}

extension VaultSession {
    /// Remembers, for each known organization, the newest of its keyrings among `seen` if it is
    /// newer than the one on record (§11.5 step 6), in the caller's transaction, with an `org`
    /// audit entry each. Matched by root, never by name: a name may have changed hands. Roots
    /// of no known organization are left out: `orgs add` reads their forwards when it comes.
    func rememberNewestKeyrings(_ seen: NewestKeyrings, in w: VaultWriter) throws {
        guard !seen.byRoot.isEmpty else { return }
        var r = try readRegistry("orgs", from: try w.registry("orgs"))
        var names = [[UInt8]: String]()
        for o in r.orgs ?? [] { if let root = StrictBase64.decode(o.root_public_key) { names[Array(root)] = o.name } }
        var known = NewestKeyrings()
        for (root, ring) in seen.byRoot where names[root] != nil { known.add(ring, root: root) }
        let changed = try r.record(known)
        guard !changed.isEmpty else { return }
        try writeRegistry("orgs", r, in: w)
        for c in changed.sorted(by: { names[$0.root]! < names[$1.root]! }) {
            try AuditLog.append(
                .org,
                [
                    "change": .string("newer keyring"), "name": .string(names[c.root]!), "root_key_id": .string(KeyIdentity.keyID(for: c.root).hex),
                    "serial": .int(c.serial),
                ], day: today, key: dataKey, in: w)
        }
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
