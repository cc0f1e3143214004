import Foundation
import TipCore
import TipCrypto
import TipStore

/// The vault key and key sharing between vaults (`tipdesk keys vault-key`, `keys share`,
/// `keys receive`): a second reviewer's vault, or a replacement machine, gets the intake keys
/// so it opens the same tips. The root key is never shared.
///
/// The vault key is an X25519 keypair made on demand, kept like an intake key (§2.3, `kind`
/// `x25519-vault`) in `keys/vault.secret`, with its public document (`VaultKeyDocument`,
/// `type` `vault`, fingerprint `vault:…`) in `keys/vault.public.json`. It opens shares and
/// nothing else: tips are never sealed to it. Its fingerprint is compared out of band by the
/// people sharing, like an intake key's.
extension Vault {
    var vaultSecretURL: URL { keysDirectory.appendingPathComponent("vault.secret") }
    var vaultPublicURL: URL { keysDirectory.appendingPathComponent("vault.public.json") }
    static let vaultKeyKind = "x25519-vault"

    public func vaultKeyDocument() throws -> VaultKeyDocument? {
        try requireExists()
        guard let data = FileManager.default.contents(atPath: vaultPublicURL.path) else { return nil }
        do { return try VaultIdentity.verifiedDocument(data) } catch { throw DeskError("the vault key document keys/vault.public.json is damaged") }
    }

    /// Makes the vault key. The passphrase is checked against the intake keys first, so the
    /// new key file is never under a passphrase the rest of the vault does not use.
    public func createVaultKey(passphrase: SecureBytes, cost: SecretKeyFile.Cost) throws -> VaultKeyDocument {
        if let doc = try vaultKeyDocument() { return doc }
        _ = try unlock(passphrase)
        let pair = IntakeKeyPair.generate()
        let doc = VaultIdentity.document(for: pair.publicKey)
        try write(
            try SecretKeyFile.seal(secret: pair.secretKey, keyID: doc.keyID.hex, kind: Self.vaultKeyKind, passphrase: passphrase, cost: cost),
            to: vaultSecretURL)
        try writePublic(doc.encoded(), to: vaultPublicURL)
        return doc
    }

    func unlockVaultKey(_ passphrase: SecureBytes) throws -> IntakeKeyPair {
        guard let doc = try vaultKeyDocument(), let file = FileManager.default.contents(atPath: vaultSecretURL.path) else {
            throw DeskError(
                "this vault has no vault key, so nothing can be shared to it",
                hints: ["make one with: tipdesk keys vault-key --out vault.public.json, and give that file to the sharer"])
        }
        do {
            let (header, secret) = try SecretKeyFile.open(file, passphrase: passphrase)
            guard header.kind == Self.vaultKeyKind, header.keyID == doc.keyID.hex else { throw DeskError("the vault key file is mislabelled") }
            return try IntakeKeyPair(publicKey: doc.publicKey, secretKey: secret)
        } catch let e as CryptoError where e == .wrongPassphrase {
            throw DeskError("wrong passphrase")
        } catch let e as CryptoError {
            throw DeskError("cannot open the vault key: \(e.message)")
        }
    }
}

public struct ReceiveReport: Equatable, Sendable {
    public var added: [KeyID] = []
    public var alreadyHad: [KeyID] = []
    /// What happened to the keyring in the share, for the reviewer.
    public var keyring: KeyringOutcome = .none

    public enum KeyringOutcome: Equatable, Sendable {
        case none
        case imported(serial: Int)
        case notNewer(serial: Int)
        case notPinned(rootFingerprint: String)
        /// The keyring did not verify against the pinned root; the keys were still imported.
        case refused(String)
    }
}

/// Sharing the intake keys with another vault, and receiving them.
public struct KeySharing {
    public let vault: Vault

    public init(vault: Vault) { self.vault = vault }

    /// Reads and verifies a recipient's vault key document.
    public static func recipient(at path: String) throws -> VaultKeyDocument {
        guard let data = FileManager.default.contents(atPath: path) else { throw DeskError("cannot read the vault key document \(path)") }
        do { return try VaultIdentity.verifiedDocument(data) } catch let e as FormatError {
            throw DeskError(
                "\(path) is not a valid vault key document: \(e.message)",
                hints: ["the recipient makes it with: tipdesk keys vault-key --out FILE"])
        }
    }

    /// Seals every intake key and the keyring to `recipient` and writes the share file (O_EXCL,
    /// 0600, fsynced: it holds secret keys, sealed). Returns the ids of the keys shared.
    @discardableResult
    public func share(to recipient: VaultKeyDocument, passphrase: SecureBytes, out url: URL) throws -> [KeyID] {
        if let own = try vault.vaultKeyDocument(), own.publicKey == recipient.publicKey {
            throw DeskError("that is this vault's own key", hints: ["give the other vault's vault.public.json with --to"])
        }
        let keys = try vault.intakeKeyPairsLocked(passphrase)
        guard !keys.isEmpty else { throw DeskError("the vault has no intake key") }
        let keyring = FileManager.default.contents(atPath: vault.directory.appendingPathComponent("keyring.json").path)
        let sealed = KeyShare.seal(keys: keys, keyring: keyring, to: recipient.publicKey)
        do { try DurableFile.writeNew(KeyShareEnvelope(to: recipient.keyID, sealed: sealed).encoded(), to: url) } catch let e as StoreError {
            throw DeskError(e.message, hints: e.code == "file_exists" ? ["choose another --out, or remove the old file"] : [])
        }
        return keys.map(\.keyID)
    }

    /// Imports the keys of a share this vault's key opens. Keys already held are skipped, so a
    /// second receive changes nothing. A keyring in the share is taken only if it verifies
    /// against this vault's root, or against `rootFingerprint` when this vault has no root
    /// (whose public document is then kept): the sealed box says nothing about who sealed it.
    public func receive(
        _ file: Data, name: String, passphrase: SecureBytes, cost: SecretKeyFile.Cost, rootFingerprint: String? = nil, today: Day = .today
    ) throws -> ReceiveReport {
        let envelope: KeyShareEnvelope
        do { envelope = try KeyShareEnvelope.decode(file) } catch let e as FormatError {
            throw DeskError("\(name) is not a key share: \(e.message)")
        }
        let own = try vault.unlockVaultKey(passphrase)
        guard envelope.to == own.keyID else {
            throw DeskError(
                "\(name) is addressed to vault key \(envelope.to), not to this vault (\(own.keyID))",
                hints: ["ask the sharer to share again with this vault's vault.public.json: tipdesk keys vault-key --out FILE"])
        }
        let contents: KeyShare.Contents
        do { contents = try KeyShare.open(envelope.sealed, with: own) } catch let e as CryptoError {
            let why = e == .decryptionFailed ? "it was altered or damaged, or sealed to another key" : e.message
            throw DeskError("\(name) could not be opened: \(why)", hints: ["nothing was imported; ask for the share again"])
        }
        var report = ReceiveReport()
        for pair in contents.keys {
            if try install(pair, passphrase: passphrase, cost: cost) { report.added.append(pair.keyID) } else { report.alreadyHad.append(pair.keyID) }
        }
        if let keyring = contents.keyring { report.keyring = try importKeyring(keyring, rootFingerprint: rootFingerprint) }
        return report
    }

    /// Writes one received key under this vault's passphrase: the secret first, then the public
    /// document, so an interrupted receive never leaves a public key without its secret.
    /// Returns false if the vault already held it.
    private func install(_ pair: IntakeKeyPair, passphrase: SecureBytes, cost: SecretKeyFile.Cost) throws -> Bool {
        let id = pair.keyID.hex
        let fm = FileManager.default
        let secretURL = vault.keysDirectory.appendingPathComponent("\(id).secret")
        let publicURL = vault.keysDirectory.appendingPathComponent("\(id).public.json")
        if let data = fm.contents(atPath: publicURL.path) {
            guard (try? KeyIdentity.verifiedDocument(data))?.publicKey == pair.publicKey else {
                throw DeskError("the vault's key document \(id).public.json differs from the shared key \(id)", hints: ["nothing more was imported"])
            }
            if fm.fileExists(atPath: secretURL.path) { return false }
        }
        if let data = fm.contents(atPath: secretURL.path) {
            // Left by an interrupted receive: keep it only if it is this very key.
            let held = try? SecretKeyFile.open(data, passphrase: passphrase)
            guard let held, held.0.keyID == id, held.0.kind == "x25519", (try? IntakeKeyPair(publicKey: pair.publicKey, secretKey: held.1)) != nil else {
                throw DeskError("keys/\(id).secret is already in the vault but is not the shared key", hints: ["move it aside and receive again"])
            }
        } else {
            try vault.write(
                try SecretKeyFile.seal(secret: pair.secretKey, keyID: id, kind: "x25519", passphrase: passphrase, cost: cost), to: secretURL)
        }
        if !fm.fileExists(atPath: publicURL.path) { try vault.writePublic(pair.document.encoded(), to: publicURL) }
        return true
    }

    private func importKeyring(_ data: Data, rootFingerprint: String?) throws -> ReceiveReport.KeyringOutcome {
        let admin = KeyAdmin(vault: vault)
        let ownRoot = try admin.rootDocument()
        let signed: SignedKeyring
        let payload: KeyringPayload
        do {
            let pin: KeyringSigner.Pin
            if let ownRoot {
                pin = .key(ownRoot.publicKey)
            } else if let rootFingerprint {
                guard RootIdentity.normalize(rootFingerprint) != nil else { return .refused("--root-fingerprint takes root: and 64 hex digits") }
                pin = .fingerprint(rootFingerprint)
            } else {
                let claimed = try SignedKeyring.decode(data).rootPublicKey
                return .notPinned(rootFingerprint: RootIdentity.document(for: claimed).fingerprint)
            }
            (signed, payload) = try KeyringSigner.verify(data, pin: pin)
        } catch let e as FormatError {
            return .refused(e.message)
        }
        // Every key the organization's keyring lists is known, for the import alarm (§2.6).
        try vault.database().recordListed(payload.intakeKeys.map(\.keyID))
        if ownRoot == nil { try vault.writePublic(RootIdentity.document(for: signed.rootPublicKey).encoded(), to: admin.rootPublicURL) }
        if let (_, current) = try admin.latest(), current.serial >= payload.serial { return .notNewer(serial: current.serial) }
        do { try DurableFile.replace(data, at: admin.keyringURL) } catch let e as StoreError { throw DeskError(e.message) }
        return .imported(serial: payload.serial)
    }
}

extension Vault {
    /// `intakeKeyPairs` under the shared lock.
    func intakeKeyPairsLocked(_ passphrase: SecureBytes) throws -> [IntakeKeyPair] {
        try requireExists()
        return try withLock(exclusive: false) { try intakeKeyPairs(passphrase) }
    }
}
