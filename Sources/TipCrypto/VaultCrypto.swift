import CSodium
import Foundation
import TipCore

/// The vault's symmetric data key (SECURITY.md §10.1): 32 random bytes, kept in
/// `VAULT/keys/data.secret` under the passphrase like every other secret (§2.3, `kind`
/// `vault-data`). Imported tips, their triage and the audit log are encrypted under keys derived
/// from it, so reading the vault needs no public-key operation and a seized vault shows ids and
/// sizes only.
///
/// Three subkeys, `crypto_kdf_derive_from_key(32, id, "tipdvlt1", K)` (BLAKE2b), one per use, so
/// a record box can never be replayed as an audit box and the MAC key is never an AEAD key:
///
/// | id | subkey |
/// |----|--------|
/// | 1  | record boxes (XChaCha20-Poly1305, AD = the tip id's 32 hex digits) |
/// | 2  | audit boxes (XChaCha20-Poly1305, AD = the entry's seq, 8 bytes big-endian) |
/// | 3  | the audit chain's MAC (keyed BLAKE2b-256) |
///
/// A box is `nonce (24 random bytes) ‖ crypto_aead_xchacha20poly1305_ietf_encrypt(…)`: a fresh
/// random nonce per write is safe with XChaCha's 192-bit nonces.
///
/// Immutable after `init`, read from several threads at once by the parallel decryption of
/// `tipdesk list` and `search`; `SecureBytes` is not `Sendable` only to keep secrets from
/// wandering, and nothing here mutates it after construction.
public final class VaultDataKey: @unchecked Sendable {
    public static let kind = "vault-data"
    public static let keyBytes = 32
    static let kdfContext = Array("tipdvlt1".utf8)
    static let idLabel = Data("tipdesk-vault-data-key-id-v1".utf8)

    public let secret: SecureBytes
    private let recordKey: SecureBytes
    private let auditKey: SecureBytes
    private let macKey: SecureBytes
    /// 16 hex digits of BLAKE2b-256(key = K, "tipdesk-vault-data-key-id-v1"): names the key in its
    /// file header and in the database, so a data key that does not belong to the database is
    /// caught before anything is written under it. A keyed hash, so it says nothing about K.
    public let keyID: String

    public init(secret: SecureBytes) throws {
        Sodium.ready()
        guard secret.count == Self.keyBytes else { throw CryptoError.badKeyFile("a vault data key is 32 bytes") }
        self.secret = secret
        recordKey = Self.subkey(secret, 1)
        auditKey = Self.subkey(secret, 2)
        macKey = Self.subkey(secret, 3)
        var id = [UInt8](repeating: 0, count: 32)
        secret.withUnsafeBytes { k in
            Self.idLabel.withUnsafeBytes { m in
                _ = crypto_generichash(
                    &id, 32, m.bindMemory(to: UInt8.self).baseAddress, UInt64(m.count), k.bindMemory(to: UInt8.self).baseAddress, 32)
            }
        }
        keyID = Hex.encode(id.prefix(8))
    }

    public static func generate() -> VaultDataKey {
        Sodium.ready()
        let k = SecureBytes(count: keyBytes)
        k.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        return try! VaultDataKey(secret: k)
    }

    private static func subkey(_ key: SecureBytes, _ id: UInt64) -> SecureBytes {
        let out = SecureBytes(count: 32)
        out.withUnsafeMutableBytes { o in
            key.withUnsafeBytes { k in
                kdfContext.withUnsafeBufferPointer { ctx in
                    _ = crypto_kdf_derive_from_key(
                        o.bindMemory(to: UInt8.self).baseAddress!, 32, id, UnsafeRawPointer(ctx.baseAddress!).assumingMemoryBound(to: CChar.self),
                        k.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
        }
        return out
    }

    // MARK: Records

    /// Encrypts one record's plaintext with the tip id as associated data, so a box moved to
    /// another row does not open.
    public func sealRecord(_ plaintext: UnsafeRawBufferPointer, id: TipID) -> [UInt8] {
        Self.seal(plaintext, ad: Array(id.hex.utf8), key: recordKey)
    }

    public func openRecord(_ box: [UInt8], id: TipID) throws -> SecureBytes {
        try Self.open(box, ad: Array(id.hex.utf8), key: recordKey)
    }

    /// Opens a record into `buffer`, a locked buffer the caller reuses from record to record
    /// (grown here when a record is larger), and returns the plaintext's length. A fresh
    /// `SecureBytes` per record costs an mmap, mprotects, an mlock and a munmap, which issue
    /// 9's profile found dominating a search of 100k records and serializing two threads on
    /// the address-space lock. The caller MUST `wipe` the buffer when done with each record.
    public func openRecord(_ box: [UInt8], id: TipID, into buffer: inout SecureBytes) throws -> Int {
        let needed = box.count - Self.nonceBytes - Self.tagBytes
        guard needed >= 0 else { throw CryptoError.decryptionFailed }
        if buffer.count < needed { buffer = SecureBytes(count: Swift.max(needed, buffer.count * 2)) }
        return try Self.open(box, ad: Array(id.hex.utf8), key: recordKey, into: buffer)
    }

    /// The signed forward a received tip came as (SECURITY.md §11.5): the record key, with
    /// associated data that no record's (a bare tip id) can equal.
    public func sealReceivedForward(_ plaintext: UnsafeRawBufferPointer, id: TipID) -> [UInt8] {
        Self.seal(plaintext, ad: Array("forward:\(id.hex)".utf8), key: recordKey)
    }

    public func openReceivedForward(_ box: [UInt8], id: TipID) throws -> SecureBytes {
        try Self.open(box, ad: Array("forward:\(id.hex)".utf8), key: recordKey)
    }

    /// The partner and organization registries (§11.1): one box each, named in the AD.
    public func sealRegistry(_ plaintext: UnsafeRawBufferPointer, name: String) -> [UInt8] {
        Self.seal(plaintext, ad: Array("registry:\(name)".utf8), key: recordKey)
    }

    public func openRegistry(_ box: [UInt8], name: String) throws -> SecureBytes {
        try Self.open(box, ad: Array("registry:\(name)".utf8), key: recordKey)
    }

    // MARK: Audit log

    public func sealAudit(_ plaintext: UnsafeRawBufferPointer, seq: Int64) -> [UInt8] {
        Self.seal(plaintext, ad: Self.bigEndian(seq), key: auditKey)
    }

    public func openAudit(_ box: [UInt8], seq: Int64) throws -> SecureBytes {
        try Self.open(box, ad: Self.bigEndian(seq), key: auditKey)
    }

    /// `mac_n = BLAKE2b-256(key = MAC subkey, mac_{n-1} ‖ u64be(seq) ‖ box)`, with 32 zero bytes
    /// before the first entry. Each MAC covers every entry before it.
    public func auditMAC(previous: [UInt8], seq: Int64, box: [UInt8]) -> [UInt8] {
        precondition(previous.count == 32, "internal error: audit MAC size")
        let message = previous + Self.bigEndian(seq) + box
        var out = [UInt8](repeating: 0, count: 32)
        macKey.withUnsafeBytes { k in
            _ = crypto_generichash(&out, 32, message, UInt64(message.count), k.bindMemory(to: UInt8.self).baseAddress, 32)
        }
        return out
    }

    /// Constant-time equality of two MACs (`sodium_memcmp`).
    public static func macsEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && a.count > 0 && sodium_memcmp(a, b, a.count) == 0
    }

    // MARK: AEAD

    public static var nonceBytes: Int { crypto_aead_xchacha20poly1305_ietf_npubbytes() }
    public static var tagBytes: Int { crypto_aead_xchacha20poly1305_ietf_abytes() }

    static func bigEndian(_ v: Int64) -> [UInt8] { withUnsafeBytes(of: UInt64(bitPattern: v).bigEndian) { Array($0) } }

    static func seal(_ m: UnsafeRawBufferPointer, ad: [UInt8], key: SecureBytes) -> [UInt8] {
        let nonce = Random.bytes(nonceBytes)
        var out = [UInt8](repeating: 0, count: nonce.count + m.count + tagBytes)
        var clen: UInt64 = 0
        out.withUnsafeMutableBufferPointer { o in
            key.withUnsafeBytes { k in
                for i in 0..<nonce.count { o[i] = nonce[i] }
                _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                    o.baseAddress! + nonce.count, &clen, m.bindMemory(to: UInt8.self).baseAddress, UInt64(m.count),
                    ad, UInt64(ad.count), nil, nonce, k.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        precondition(Int(clen) == m.count + tagBytes, "internal error: AEAD length")
        return out
    }

    static func open(_ box: [UInt8], ad: [UInt8], key: SecureBytes) throws -> SecureBytes {
        guard box.count >= nonceBytes + tagBytes else { throw CryptoError.decryptionFailed }
        let out = SecureBytes(count: box.count - nonceBytes - tagBytes)
        _ = try open(box, ad: ad, key: key, into: out)
        return out
    }

    /// Decrypts into the start of `out` (at least the plaintext's size) and returns its length.
    static func open(_ box: [UInt8], ad: [UInt8], key: SecureBytes, into out: SecureBytes) throws -> Int {
        Sodium.ready()
        guard box.count >= nonceBytes + tagBytes, out.count >= box.count - nonceBytes - tagBytes else { throw CryptoError.decryptionFailed }
        var mlen: UInt64 = 0
        let rc = box.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBytes { o in
                key.withUnsafeBytes { k in
                    crypto_aead_xchacha20poly1305_ietf_decrypt(
                        o.bindMemory(to: UInt8.self).baseAddress, &mlen, nil, b.baseAddress! + nonceBytes,
                        UInt64(b.count - nonceBytes), ad, UInt64(ad.count), b.baseAddress!, k.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
        }
        guard rc == 0 else { throw CryptoError.decryptionFailed }
        return Int(mlen)
    }
}

// `tipdesk import` opens a bundle's tips on every core. A `TipOpener` holds only key pairs that
// are immutable after they are made, and libsodium's box functions are thread-safe.
extension TipOpener: @unchecked Sendable {}
