import Foundation
import TipCore
import TipCrypto
import TipStore

/// The reviewer's vault: a 0700 directory on the offline machine.
///
///     VAULT/keys/<key_id>.secret        an intake secret key, Argon2id-encrypted, 0600
///     VAULT/keys/<key_id>.public.json   its public key document
///     VAULT/keys/root.secret, root.public.json     the root key (§2.4), if this vault has one
///     VAULT/keys/vault.secret, vault.public.json   the vault key shares are sealed to, if made
///     VAULT/keys/data.secret            the data key tips and the audit log are encrypted under (§10.1)
///     VAULT/keyring.json                the newest signed keyring (§2.5)
///     VAULT/vault.sqlite                imported tips, re-encrypted (§10.2), and the audit log (§10.3)
///     VAULT/state.json                  the last backup and the audit anchor (VaultState, §10.5)
///     VAULT/taxonomy.json, rules.json   the reviewer's categories and triage rules, if edited
///
/// `keys.new` and `keys.old` exist only while the passphrase is changed; `recover()` finishes
/// or undoes a change a crash interrupted, and runs whenever the vault is opened.
public struct Vault {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// `--vault`, then `$TIPDESK_VAULT`, then `~/.tipdesk`.
    public static func resolve(flag: String?, environment: [String: String]) -> Vault {
        if let flag { return Vault(directory: URL(fileURLWithPath: flag)) }
        if let env = environment["TIPDESK_VAULT"], !env.isEmpty { return Vault(directory: URL(fileURLWithPath: env)) }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return Vault(directory: URL(fileURLWithPath: home).appendingPathComponent(".tipdesk"))
    }

    var keysDirectory: URL { directory.appendingPathComponent("keys") }

    var exists: Bool { FileManager.default.fileExists(atPath: keysDirectory.path) }

    /// Creates the vault and its first intake keypair. Refuses an existing vault: a second
    /// `init` must never replace the key old tips are sealed to.
    public func create(passphrase: SecureBytes, cost: SecretKeyFile.Cost = .moderate) throws -> PublicKeyDocument {
        // A vault caught between `keys` and `keys.new` has keys: finish that before looking.
        try recover()
        guard !exists else {
            throw DeskError(
                "a vault already exists at \(directory.path)",
                hints: ["use another --vault, or keep using this one"])
        }
        // A database without its keys/ (lost, or not restored yet) holds tips under a data key
        // that only those keys open: a new data key would write over its id (§10.1).
        guard !FileManager.default.fileExists(atPath: directory.appendingPathComponent(VaultDatabase.fileName).path) else {
            throw DeskError(
                "\(directory.path) holds a vault database but no keys/ directory",
                hints: ["restore keys/ from a backup (tipdesk restore), or use another --vault; init would lock its tips away"])
        }
        let fm = FileManager.default
        try fm.createDirectory(at: keysDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        let pair = IntakeKeyPair.generate()
        let doc = pair.document
        let sealed = try SecretKeyFile.seal(
            secret: pair.secretKey, keyID: doc.keyID.hex, kind: "x25519", passphrase: passphrase, cost: cost)
        try write(sealed, to: keysDirectory.appendingPathComponent("\(doc.keyID.hex).secret"))
        try write(doc.encoded(), to: keysDirectory.appendingPathComponent("\(doc.keyID.hex).public.json"))
        // The data key of §10.1, at the intake key's cost; its id goes into the new database.
        let dataKey = try makeDataKey(passphrase, opslimit: cost.opslimit, memlimit: cost.memlimit)
        try database().write { w in try w.setMeta(VaultDatabase.dataKeyIDKey, dataKey.keyID) }
        return doc
    }

    public func database() throws -> VaultDatabase {
        try requireExists()
        do {
            return try VaultDatabase(directory: directory.path)
        } catch let e as StoreError {
            throw DeskError(e.message)
        }
    }

    /// The public key documents of every intake key in the vault, in key id order: the files
    /// named `<key_id>.public.json`, so the root's and the vault key's documents are not
    /// intake keys.
    public func publicKeys() throws -> [PublicKeyDocument] {
        try requireExists()
        let names = try FileManager.default.contentsOfDirectory(atPath: keysDirectory.path)
            .filter { Self.isIntakeKeyFile($0, suffix: ".public.json") }.sorted()
        return try names.map { name in
            let data = try Data(contentsOf: keysDirectory.appendingPathComponent(name))
            do { return try KeyIdentity.verifiedDocument(data) } catch {
                throw DeskError("the key document \(name) in the vault is damaged")
            }
        }
    }

    static func isIntakeKeyFile(_ name: String, suffix: String) -> Bool {
        name.hasSuffix(suffix) && KeyID(String(name.dropLast(suffix.count))) != nil
    }

    /// Decrypts every secret key with `passphrase`. Holds the vault's shared lock so that a
    /// passphrase change does not swap `keys/` between reading the list and the files.
    public func unlock(_ passphrase: SecureBytes) throws -> TipOpener {
        try requireExists()
        return try withLock(exclusive: false) { TipOpener(keys: try intakeKeyPairs(passphrase)) }
    }

    func intakeKeyPairs(_ passphrase: SecureBytes) throws -> [IntakeKeyPair] {
        var pairs = [IntakeKeyPair]()
        for doc in try publicKeys() {
            let url = keysDirectory.appendingPathComponent("\(doc.keyID.hex).secret")
            guard let file = FileManager.default.contents(atPath: url.path) else {
                throw DeskError("the secret key \(doc.keyID) is missing from the vault", hints: ["restore it from your backup"])
            }
            do {
                let (header, secret) = try SecretKeyFile.open(file, passphrase: passphrase)
                guard header.keyID == doc.keyID.hex, header.kind == "x25519" else {
                    throw DeskError("the secret key file \(url.lastPathComponent) is mislabelled")
                }
                pairs.append(try IntakeKeyPair(publicKey: doc.publicKey, secretKey: secret))
            } catch let e as CryptoError where e == .wrongPassphrase {
                throw DeskError(
                    "wrong passphrase", hints: ["the key file may also have been altered; if the passphrase is right, restore the key from a backup"])
            } catch let e as CryptoError {
                throw DeskError("cannot open the secret key \(doc.keyID): \(e.message)")
            }
        }
        return pairs
    }

    func requireExists() throws {
        try recover()
        guard exists else {
            throw DeskError(
                "no vault at \(directory.path)",
                hints: ["create one with: tipdesk init --vault \(directory.path)", "or point to yours with --vault or TIPDESK_VAULT"])
        }
    }

    /// Key files: O_EXCL and 0600 (non-negotiable 2), fsynced. Under the shared lock, so a key
    /// is never written into a `keys/` a passphrase change is about to retire.
    func write(_ data: Data, to url: URL) throws {
        do {
            try withLock(exclusive: false) { try DurableFile.writeNew(data, to: url) }
        } catch let e as StoreError {
            throw DeskError(e.message)
        }
    }
}

extension Vault {
    /// Writes a public document (mode 0644, O_EXCL).
    public func writePublic(_ data: Data, to url: URL) throws {
        do {
            if url.deletingLastPathComponent().standardizedFileURL.path == keysDirectory.standardizedFileURL.path {
                try withLock(exclusive: false) { try DurableFile.writeNew(data, to: url, mode: 0o644) }
            } else {
                try DurableFile.writeNew(data, to: url, mode: 0o644)
            }
        } catch let e as StoreError {
            throw DeskError(e.message, hints: e.code == "file_exists" ? ["choose another --out, or remove the old file"] : [])
        }
    }
}

extension Vault {
    /// Writes a reviewer's file into the vault (O_EXCL, 0600): the taxonomy or rules to edit.
    public func writePrivate(_ data: Data, to url: URL) throws {
        do { try DurableFile.writeNew(data, to: url) } catch let e as StoreError {
            throw DeskError(e.message, hints: e.code == "file_exists" ? ["edit the existing file instead"] : [])
        }
    }
}
