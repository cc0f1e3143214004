import Foundation
import TipCore
import TipCrypto
import TipStore

/// A tip opened in memory for the reviewer. Never written to disk by these commands.
public struct OpenedTip: Sendable {
    public let id: TipID
    public let day: Day
    public let keyID: KeyID
    public let result: Result<TipDocument, DeskError>
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
}

/// The reviewer's operations, shared by the CLI and the tests.
public struct Desk {
    public let vault: Vault

    public init(vault: Vault) { self.vault = vault }

    /// Imports a bundle. A damaged bundle is refused whole; a good one is added in one
    /// transaction, so a second import of the same bundle adds nothing.
    public func importBundle(at url: URL) throws -> ImportReport {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw DeskError("cannot read the bundle \(url.path)")
        }
        let header: ExportBundle.Header, tips: [SealedTip]
        do {
            (header, tips) = try ExportBundle.decode(data) { BLAKE2b.hash($0) }
        } catch let e as FormatError {
            throw DeskError("\(url.lastPathComponent) is not a valid bundle: \(e.message)", hints: ["export it again with: tipgate export --all"])
        }
        let known = Set(try vault.publicKeys().map(\.keyID))
        let result = try vault.database().importTips(tips, instance: header.instance)
        let unknown = Set(tips.map(\.keyID)).subtracting(known).sorted()
        let listed = try vault.database().listedKeys()
        let unlisted = listed.isEmpty ? [] : Set(tips.map(\.keyID)).subtracting(listed).sorted()
        return ImportReport(
            instance: header.instance, added: result.added, alreadyHad: result.alreadyHad, conflicts: result.conflicts,
            unknownKeys: unknown, unlistedKeys: unlisted)
    }

    public func open(_ tips: [SealedTip], with opener: TipOpener) -> [OpenedTip] {
        tips.map { t in
            let r: Result<TipDocument, DeskError>
            do {
                r = .success(try opener.open(keyID: t.keyID, sealed: t.sealed))
            } catch let e as CryptoError where e.code == "no_matching_key" {
                r = .failure(DeskError("no key matches this tip", hints: ["it is sealed to key \(t.keyID), which this vault does not hold"]))
            } catch let e as CryptoError where e == .decryptionFailed {
                r = .failure(DeskError("this tip could not be decrypted: it was altered or damaged"))
            } catch let e as CryptoError {
                r = .failure(DeskError("this tip could not be read: \(e.message)"))
            } catch let e as FormatError {
                r = .failure(DeskError("this tip decrypted but is not a valid v1 tip: \(e.message)"))
            } catch {
                r = .failure(DeskError("this tip could not be read"))
            }
            return OpenedTip(id: t.id, day: t.day, keyID: t.keyID, result: r)
        }
    }

    /// Every tip in the vault, newest day first, still sealed.
    public func allTips() throws -> [SealedTip] { try vault.database().allTips() }

    /// Finds one tip by id or unique id prefix (at least 6 hex digits).
    public func find(_ idOrPrefix: String) throws -> SealedTip {
        let p = idOrPrefix.lowercased()
        guard p.utf8.count >= 6, p.utf8.count <= 32, Hex.decode(p.utf8.count % 2 == 0 ? p : p + "0") != nil else {
            throw DeskError("\(TerminalText.preview(idOrPrefix, limit: 40)) is not a tip id", hints: ["give at least 6 hex digits of an id from: tipdesk list"])
        }
        let found = try vault.database().tips(idPrefix: p)
        guard let first = found.first else { throw DeskError("no tip with id \(p)", hints: ["see the ids with: tipdesk list"]) }
        guard found.count == 1 else { throw DeskError("more than one tip starts with \(p)", hints: ["give more digits of the id"]) }
        return first
    }
}
