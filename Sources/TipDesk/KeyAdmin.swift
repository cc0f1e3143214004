import Foundation
import TipCore
import TipCrypto
import TipStore

#if canImport(Glibc)
    import Glibc
#endif

/// The root key, the signed keyring and rotation (SECURITY.md §2.4–2.6), on the offline
/// machine. Every secret key stays in the vault, so tips sealed to old keys still open.
public struct KeyAdmin {
    public let vault: Vault
    public let today: Day
    /// How long a keyring is valid for, in days.
    public static let defaultValidity = 90

    public init(vault: Vault, today: Day = .today) {
        self.vault = vault
        self.today = today
    }

    var rootSecretURL: URL { vault.keysDirectory.appendingPathComponent("root.secret") }
    var rootPublicURL: URL { vault.keysDirectory.appendingPathComponent("root.public.json") }
    var keyringURL: URL { vault.directory.appendingPathComponent("keyring.json") }

    /// Creates the root signing key. Refuses if the vault has one: replacing a root would
    /// orphan every keyring and fingerprint already published.
    public func initRoot(passphrase: SecureBytes, cost: SecretKeyFile.Cost) throws -> RootKeyDocument {
        try vault.requireExists()
        // A vault that received a keyring from another reviewer holds the root's public
        // document but not its secret: it must not make a root of its own either.
        guard !FileManager.default.fileExists(atPath: rootSecretURL.path), !FileManager.default.fileExists(atPath: rootPublicURL.path) else {
            throw DeskError("this vault already has a root key", hints: ["its fingerprint: tipdesk keys list"])
        }
        let root = SigningKeyPair.generate()
        let doc = root.rootDocument
        try vault.write(
            try SecretKeyFile.seal(secret: root.secretKey, keyID: doc.keyID.hex, kind: "ed25519-root", passphrase: passphrase, cost: cost),
            to: rootSecretURL)
        try vault.writePublic(doc.encoded(), to: rootPublicURL)
        return doc
    }

    public func rootDocument() throws -> RootKeyDocument? {
        guard let data = FileManager.default.contents(atPath: rootPublicURL.path) else { return nil }
        do { return try RootIdentity.verifiedDocument(data) } catch { throw DeskError("the vault's root key document is damaged") }
    }

    func unlockRoot(_ passphrase: SecureBytes) throws -> SigningKeyPair {
        guard let doc = try rootDocument(), let file = FileManager.default.contents(atPath: rootSecretURL.path) else {
            throw DeskError("this vault has no root key", hints: ["create one on the offline machine with: tipdesk keys init-root"])
        }
        do {
            let (header, secret) = try SecretKeyFile.open(file, passphrase: passphrase)
            guard header.kind == "ed25519-root", header.keyID == doc.keyID.hex else { throw DeskError("the root key file is mislabelled") }
            return try SigningKeyPair(publicKey: doc.publicKey, secretKey: secret)
        } catch let e as CryptoError where e == .wrongPassphrase {
            throw DeskError("wrong passphrase")
        } catch let e as CryptoError {
            throw DeskError("cannot open the root key: \(e.message)")
        }
    }

    /// The newest keyring this vault signed, verified against its own root.
    public func latest() throws -> (SignedKeyring, KeyringPayload)? {
        guard let data = FileManager.default.contents(atPath: keyringURL.path) else { return nil }
        guard let root = try rootDocument() else { throw DeskError("the vault has a keyring but no root key") }
        do { return try KeyringSigner.verify(data, pin: .key(root.publicKey)) } catch let e as FormatError {
            throw DeskError("the vault's keyring does not verify: \(e.message)")
        }
    }

    /// Re-signs the keyring with a new serial and validity; the first call makes serial 1 from
    /// the vault's intake keys.
    public func renew(passphrase: SecureBytes, validity: Int = defaultValidity, scripts: [String: String]? = nil) throws -> SignedKeyring {
        let root = try unlockRoot(passphrase)
        var payload: KeyringPayload
        if let (_, p) = try latest() {
            payload = p
            payload.serial += 1
        } else {
            let keys = try vault.publicKeys()
            guard !keys.isEmpty else { throw DeskError("the vault has no intake key") }
            payload = KeyringPayload(
                serial: 1, issued: today, expires: today, rootKeyID: root.rootDocument.keyID,
                intakeKeys: keys.map { IntakeKeyEntry(keyID: $0.keyID, publicKey: $0.publicKey, notBefore: today) }, scripts: [:])
        }
        payload.issued = today
        payload.expires = today.adding(days: validity)
        if let scripts { payload.scripts = scripts }
        return try save(payload, root: root)
    }

    /// A new intake key, current from today; the old current key retires after `overlap`.
    public func rotate(passphrase: SecureBytes, overlapDays: Int, cost: SecretKeyFile.Cost, scripts: [String: String]? = nil)
        throws -> (PublicKeyDocument, SignedKeyring)
    {
        guard overlapDays >= 0 else { throw DeskError("the overlap cannot be negative") }
        let root = try unlockRoot(passphrase)
        guard var (_, payload) = try latest().map({ ($0.0, $0.1) }) else {
            throw DeskError("this vault has not signed a keyring yet", hints: ["sign the first one with: tipdesk keys renew --out FILE"])
        }
        // Check the passphrase against the intake keys too before writing a new one.
        _ = try vault.unlock(passphrase)
        let pair = IntakeKeyPair.generate()
        let doc = pair.document
        try vault.write(
            try SecretKeyFile.seal(secret: pair.secretKey, keyID: doc.keyID.hex, kind: "x25519", passphrase: passphrase, cost: cost),
            to: vault.keysDirectory.appendingPathComponent("\(doc.keyID.hex).secret"))
        try vault.writePublic(doc.encoded(), to: vault.keysDirectory.appendingPathComponent("\(doc.keyID.hex).public.json"))
        let end = today.adding(days: overlapDays)
        if let current = payload.current(on: today), let i = payload.intakeKeys.firstIndex(where: { $0.keyID == current.keyID }) {
            if payload.intakeKeys[i].notAfter.map({ $0 > end }) ?? true { payload.intakeKeys[i].notAfter = end }
        }
        payload.intakeKeys.append(IntakeKeyEntry(keyID: doc.keyID, publicKey: doc.publicKey, notBefore: today))
        // Keep the list bounded: drop keys that retired longest ago (their secrets stay here).
        while payload.intakeKeys.count > KeyringPayload.maxKeys,
            let i = payload.intakeKeys.indices.filter({ payload.status(of: payload.intakeKeys[$0].keyID, on: today) == .retired }).first
        {
            payload.intakeKeys.remove(at: i)
        }
        payload.serial += 1
        payload.issued = today
        payload.expires = today.adding(days: Self.defaultValidity)
        if let scripts { payload.scripts = scripts }
        return (doc, try save(payload, root: root))
    }

    /// Ends a key now (an emergency): retired from yesterday, or removed if it only started
    /// today. Refuses to leave no key to seal to.
    public func retire(_ keyID: KeyID, passphrase: SecureBytes) throws -> SignedKeyring {
        let root = try unlockRoot(passphrase)
        guard var (_, payload) = try latest().map({ ($0.0, $0.1) }) else { throw DeskError("this vault has not signed a keyring yet") }
        guard let i = payload.intakeKeys.firstIndex(where: { $0.keyID == keyID }) else {
            throw DeskError("the keyring does not list key \(keyID)", hints: ["see the keys with: tipdesk keys list"])
        }
        let yesterday = today.adding(days: -1)
        if payload.intakeKeys[i].notBefore > yesterday {
            payload.intakeKeys.remove(at: i)
        } else {
            payload.intakeKeys[i].notAfter = yesterday
        }
        guard !payload.intakeKeys.isEmpty, payload.current(on: today) != nil else {
            throw DeskError(
                "retiring \(keyID) would leave no key to seal tips to",
                hints: ["rotate first (tipdesk keys rotate --overlap 0d --out FILE), then retire the old key"])
        }
        payload.serial += 1
        payload.issued = today
        return try save(payload, root: root)
    }

    var forwardingSecretURL: URL { vault.keysDirectory.appendingPathComponent("forwarding.secret") }
    var forwardingPublicURL: URL { vault.keysDirectory.appendingPathComponent("forwarding.public.json") }

    /// Creates the forwarding key (SECURITY.md §11.3) and certifies it by listing it in a newly
    /// signed keyring. The root signs once here; day to day, forwards are signed with the
    /// forwarding key alone. One certified key at a time: a second is refused unless `replace`
    /// (the old one may have leaked). The new key is written beside the old, the keyring that
    /// certifies it is saved, and only then does it take the old one's place. Forwards already
    /// signed with the old key carry the keyring that certified it: a partner takes them as
    /// verified until that keyring is stale (§11.5 step 4), or until it has seen the new keyring,
    /// from the next forward or `orgs add --keyring` (step 6).
    public func createForwardingKey(passphrase: SecureBytes, cost: SecretKeyFile.Cost, replace: Bool = false) throws -> (
        ForwardingKeyDocument, SignedKeyring
    ) {
        let root = try unlockRoot(passphrase)
        guard var (_, payload) = try latest().map({ ($0.0, $0.1) }) else {
            throw DeskError("this vault has not signed a keyring yet", hints: ["sign the first one with: tipdesk keys renew --out FILE"])
        }
        let fm = FileManager.default
        if fm.fileExists(atPath: forwardingSecretURL.path), !replace {
            throw DeskError(
                "this vault already has a forwarding key",
                hints: ["see it with: tipdesk keys list", "if it may have leaked: tipdesk keys forwarding-key --replace --out FILE"])
        }
        let pair = SigningKeyPair.generate()
        let doc = ForwardingKeyDocument.derived(from: pair.publicKey)
        let newSecret = vault.keysDirectory.appendingPathComponent("forwarding-\(doc.keyID.hex).secret")
        let newPublic = vault.keysDirectory.appendingPathComponent("forwarding-\(doc.keyID.hex).public.json")
        try vault.write(
            try SecretKeyFile.seal(secret: pair.secretKey, keyID: doc.keyID.hex, kind: "ed25519-forwarding", passphrase: passphrase, cost: cost),
            to: newSecret)
        try vault.writePublic(doc.encoded(), to: newPublic)
        payload.forwardingKey = .init(keyID: doc.keyID, publicKey: doc.publicKey)
        payload.serial += 1
        payload.issued = today
        if payload.expires < today { payload.expires = today.adding(days: Self.defaultValidity) }
        let signed = try save(payload, root: root)
        try vault.withLock(exclusive: false) {
            for (from, to) in [(newSecret, forwardingSecretURL), (newPublic, forwardingPublicURL)] {
                guard Glibc.rename(from.path, to.path) == 0 else {
                    throw DeskError("cannot move the new forwarding key into place: \(String(cString: strerror(errno)))")
                }
            }
        }
        return (doc, signed)
    }

    public func forwardingDocument() throws -> ForwardingKeyDocument? {
        guard let data = FileManager.default.contents(atPath: forwardingPublicURL.path) else { return nil }
        do { return try .verified(data) } catch { throw DeskError("the vault's forwarding key document is damaged") }
    }

    /// The forwarding key and the newest keyring, which must certify exactly this key.
    func unlockForwarding(_ passphrase: SecureBytes) throws -> (SigningKeyPair, SignedKeyring) {
        guard let doc = try forwardingDocument(), let file = FileManager.default.contents(atPath: forwardingSecretURL.path) else {
            throw DeskError(
                "this vault has no forwarding key",
                hints: ["create and certify one on the machine with the root: tipdesk keys forwarding-key --out KEYRING"])
        }
        guard let (signed, payload) = try latest(), payload.forwardingKey?.publicKey == doc.publicKey else {
            throw DeskError(
                "the vault's keyring does not certify its forwarding key",
                hints: ["partners could not verify a forward; certify a new one: tipdesk keys forwarding-key --replace --out FILE"])
        }
        // A partner takes a forward only while the keyring it carries is recent (§11.5).
        guard !payload.isExpired(on: today) else {
            throw DeskError("the vault's keyring expired on \(payload.expires)", hints: ["renew it first: tipdesk keys renew --out FILE"])
        }
        do {
            let (header, secret) = try SecretKeyFile.open(file, passphrase: passphrase)
            guard header.kind == "ed25519-forwarding", header.keyID == doc.keyID.hex else {
                throw DeskError("the forwarding key file is mislabelled")
            }
            return (try SigningKeyPair(publicKey: doc.publicKey, secretKey: secret), signed)
        } catch let e as CryptoError where e == .wrongPassphrase {
            throw DeskError("wrong passphrase")
        } catch let e as CryptoError {
            throw DeskError("cannot open the forwarding key: \(e.message)")
        }
    }

    /// Every intake key in the vault with its status in the newest keyring.
    public func list() throws -> [(PublicKeyDocument, KeyStatus?)] {
        let payload = try latest()?.1
        return try vault.publicKeys().map { ($0, payload?.status(of: $0.keyID, on: today)) }
    }

    private func save(_ payload: KeyringPayload, root: SigningKeyPair) throws -> SignedKeyring {
        let signed = KeyringSigner.sign(payload, with: root)
        try vault.database().recordListed(payload.intakeKeys.map(\.keyID))
        do { try DurableFile.replace(signed.encoded(), at: keyringURL) } catch let e as StoreError { throw DeskError(e.message) }
        return signed
    }
}
