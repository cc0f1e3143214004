import Foundation
import TipCore
import TipCrypto
import TipStore

/// The vault's data key (SECURITY.md §10.1) in `keys/data.secret`: a secret-key file (§2.3) of
/// `kind` `vault-data` whose `key_id` is `VaultDataKey.keyID`. `tipdesk passphrase` re-encrypts
/// it with the other `*.secret` files, and a backup carries it with `keys/`. It has no public
/// document, so it is never mistaken for an intake key.
extension Vault {
    static let dataKeyFileName = "data.secret"
    var dataKeyURL: URL { keysDirectory.appendingPathComponent(Self.dataKeyFileName) }

    /// Opens the data key with `passphrase`, making it on first need: a vault made before §10
    /// gets one the first time it is unlocked, with the Argon2id cost of its intake key. A
    /// missing key file is made only while nothing in the database is encrypted under a data
    /// key; otherwise it is an error (a new key would not open what the old one sealed).
    public func unlockDataKey(_ passphrase: SecureBytes, cost: SecretKeyFile.Cost? = nil) throws -> VaultDataKey {
        try requireExists()
        let db = try database()
        if let file = try withLock(exclusive: false, { FileManager.default.contents(atPath: dataKeyURL.path) }) {
            return try checked(try openDataKey(file, passphrase: passphrase), in: db)
        }
        let (encrypted, recorded) = try db.write { w in (try w.hasEncryptedData(), try w.meta(VaultDatabase.dataKeyIDKey)) }
        guard !encrypted, recorded == nil else {
            throw DeskError(
                "the vault's data key keys/\(Self.dataKeyFileName) is missing",
                hints: ["restore the vault from your latest backup: tipdesk restore FILE --vault NEW_DIR"])
        }
        // Only a right passphrase may make the key: check it against the intake keys first.
        guard !(try intakeKeyPairs(passphrase)).isEmpty else { throw DeskError("the vault has no intake key") }
        let limits = try intakeKeyLimits()
        do {
            return try checked(try makeDataKey(passphrase, opslimit: cost?.opslimit ?? limits.ops, memlimit: cost?.memlimit ?? limits.mem), in: db)
        } catch is DeskError where FileManager.default.fileExists(atPath: dataKeyURL.path) {
            // Another tipdesk made it first (O_EXCL): use that one.
            return try unlockDataKey(passphrase)
        }
    }

    /// Writes a new data key file (O_EXCL, 0600, fsynced). `init` calls it with the cost it
    /// gives the intake key.
    func makeDataKey(_ passphrase: SecureBytes, opslimit: Int, memlimit: Int) throws -> VaultDataKey {
        let key = VaultDataKey.generate()
        let file = try SecretKeyFile.seal(
            secret: key.secret, keyID: key.keyID, kind: VaultDataKey.kind, passphrase: passphrase, opslimit: opslimit, memlimit: memlimit)
        try write(file, to: dataKeyURL)
        return key
    }

    private func openDataKey(_ file: Data, passphrase: SecureBytes) throws -> VaultDataKey {
        do {
            let (header, secret) = try SecretKeyFile.open(file, passphrase: passphrase)
            let key = try VaultDataKey(secret: secret)
            guard header.kind == VaultDataKey.kind, header.keyID == key.keyID else {
                throw DeskError("the data key file keys/\(Self.dataKeyFileName) is mislabelled", hints: ["restore it from your backup"])
            }
            return key
        } catch let e as CryptoError where e == .wrongPassphrase {
            throw DeskError("wrong passphrase", hints: ["the key file may also have been altered; if the passphrase is right, restore the key from a backup"])
        } catch let e as CryptoError {
            throw DeskError("cannot open the vault's data key: \(e.message)")
        }
    }

    /// The database names the data key it was written under; a different key is refused before
    /// anything is written with it.
    private func checked(_ key: VaultDataKey, in db: VaultDatabase) throws -> VaultDataKey {
        try db.write { w in
            if let id = try w.meta(VaultDatabase.dataKeyIDKey) {
                guard id == key.keyID else {
                    throw DeskError(
                        "keys/\(Self.dataKeyFileName) is not the data key this vault's database was written with",
                        hints: ["restore keys/ and vault.sqlite from the same backup"])
                }
            } else {
                try w.setMeta(VaultDatabase.dataKeyIDKey, key.keyID)
            }
        }
        return key
    }

    /// The Argon2id limits of the vault's first intake key file.
    private func intakeKeyLimits() throws -> (ops: Int, mem: Int) {
        guard let doc = try publicKeys().first,
            let file = FileManager.default.contents(atPath: keysDirectory.appendingPathComponent("\(doc.keyID.hex).secret").path),
            let h = try? SecretKeyFile.header(file)
        else { return (SecretKeyFile.Cost.moderate.opslimit, SecretKeyFile.Cost.moderate.memlimit) }
        return (h.opslimit, h.memlimit)
    }
}
