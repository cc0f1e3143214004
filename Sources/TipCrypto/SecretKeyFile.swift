import CSodium
import Foundation
import TipCore

/// The encrypted secret-key file, v1 (SECURITY.md §2.3):
///
///     tipdesk-secret-key v1\n
///     {"kdf":"argon2id13","key_id":"…","kind":"x25519","memlimit":N,"opslimit":N,"salt":"<b64>"}\n
///     <base64(nonce ‖ crypto_secretbox(secret key))>\n
///
/// The box key is BLAKE2b-256 keyed by Argon2id(passphrase, salt) over the two header lines,
/// so any change to the header (weaker parameters, another salt, a relabelled key) fails
/// exactly like a wrong passphrase.
public enum SecretKeyFile {
    public static let magic = "tipdesk-secret-key v1\n"

    /// Argon2id cost. `moderate` is the default; `interactive` is for tests and small machines.
    public enum Cost: String, CaseIterable, Sendable {
        case interactive, moderate, sensitive

        var limits: (ops: Int, mem: Int) {
            switch self {
            case .interactive: (crypto_pwhash_opslimit_interactive(), crypto_pwhash_memlimit_interactive())
            case .moderate: (crypto_pwhash_opslimit_moderate(), crypto_pwhash_memlimit_moderate())
            case .sensitive: (crypto_pwhash_opslimit_sensitive(), crypto_pwhash_memlimit_sensitive())
            }
        }

        public var opslimit: Int { limits.ops }
        public var memlimit: Int { limits.mem }
    }

    /// The header line, readable without the passphrase. The limits are there so a passphrase
    /// change can re-encrypt a key at the cost it had (`tipdesk passphrase`).
    public struct Header: Equatable, Sendable {
        public let keyID: String
        public let kind: String
        public let opslimit: Int
        public let memlimit: Int
    }

    public static func seal(
        secret: SecureBytes, keyID: String, kind: String, passphrase: SecureBytes, cost: Cost = .moderate
    ) throws -> Data {
        try seal(secret: secret, keyID: keyID, kind: kind, passphrase: passphrase, opslimit: cost.opslimit, memlimit: cost.memlimit)
    }

    /// Seals with explicit Argon2id limits, which must be within the bounds a reader accepts
    /// (§2.3): a file no reader would open must never be written.
    public static func seal(
        secret: SecureBytes, keyID: String, kind: String, passphrase: SecureBytes, opslimit ops: Int, memlimit mem: Int
    ) throws -> Data {
        Sodium.ready()
        guard PassphraseKey.limitsAllowed(opslimit: ops, memlimit: mem) else {
            throw CryptoError.badKeyFile("the Argon2id limits are out of range")
        }
        let salt = Random.bytes(crypto_pwhash_saltbytes())
        let header =
            Data(magic.utf8)
            + StrictHeader(
                kdf: "argon2id13", key_id: keyID, kind: kind, memlimit: mem, opslimit: ops,
                salt: Data(salt).base64EncodedString()
            ).line()
        let key = try boxKey(passphrase: passphrase, salt: salt, ops: ops, mem: mem, header: header)
        let nonce = Random.bytes(crypto_secretbox_noncebytes())
        var box = [UInt8](repeating: 0, count: secret.count + crypto_secretbox_macbytes())
        secret.withUnsafeBytes { m in
            key.withUnsafeBytes { k in
                _ = crypto_secretbox_easy(
                    &box, m.bindMemory(to: UInt8.self).baseAddress!, UInt64(m.count), nonce,
                    k.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        return header + Data((Data(nonce) + Data(box)).base64EncodedString().utf8) + Data([0x0a])
    }

    /// Reads the header without the passphrase (to list keys).
    public static func header(_ file: Data) throws -> Header {
        let (_, h, _) = try split(file)
        return Header(keyID: h.key_id, kind: h.kind, opslimit: h.opslimit, memlimit: h.memlimit)
    }

    public static func open(_ file: Data, passphrase: SecureBytes) throws -> (Header, SecureBytes) {
        Sodium.ready()
        let (headerBytes, h, payload) = try split(file)
        guard h.kdf == "argon2id13" else { throw CryptoError.badKeyFile("unknown KDF \(h.kdf)") }
        // Bounds keep an edited header from costing 100 GiB of memory or from being trivially
        // weak; a weaker header would also fail the MAC, but only after the work.
        guard PassphraseKey.limitsAllowed(opslimit: h.opslimit, memlimit: h.memlimit),
            let salt = StrictBase64.decode(h.salt), salt.count == crypto_pwhash_saltbytes()
        else { throw CryptoError.badKeyFile("the key file's parameters are out of range") }
        let nb = crypto_secretbox_noncebytes()
        let mb = crypto_secretbox_macbytes()
        guard payload.count > nb + mb else { throw CryptoError.badKeyFile("the key file is truncated") }
        let key = try boxKey(passphrase: passphrase, salt: Array(salt), ops: h.opslimit, mem: h.memlimit, header: headerBytes)
        let nonce = Array(payload.prefix(nb))
        let box = Array(payload.dropFirst(nb))
        let secret = SecureBytes(count: box.count - mb)
        let rc = secret.withUnsafeMutableBytes { m in
            key.withUnsafeBytes { k in
                crypto_secretbox_open_easy(
                    m.bindMemory(to: UInt8.self).baseAddress!, box, UInt64(box.count), nonce,
                    k.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        guard rc == 0 else { throw CryptoError.wrongPassphrase }
        return (Header(keyID: h.key_id, kind: h.kind, opslimit: h.opslimit, memlimit: h.memlimit), secret)
    }

    private static func boxKey(passphrase: SecureBytes, salt: [UInt8], ops: Int, mem: Int, header: Data) throws -> SecureBytes {
        try PassphraseKey.derive(passphrase: passphrase, salt: salt, opslimit: ops, memlimit: mem, context: header)
    }

    private static func split(_ file: Data) throws -> (Data, StrictHeader, [UInt8]) {
        let lines = file.split(separator: 0x0a, omittingEmptySubsequences: false)
        guard lines.count == 4, lines[3].isEmpty, Data(lines[0]) + Data([0x0a]) == Data(magic.utf8) else {
            throw CryptoError.badKeyFile("not a tipdesk secret key file (v1)")
        }
        let headerBytes = Data(lines[0]) + Data([0x0a]) + Data(lines[1]) + Data([0x0a])
        guard let h = try? JSONDecoder().decode(StrictHeader.self, from: Data(lines[1])) else {
            throw CryptoError.badKeyFile("the key file's header is damaged")
        }
        guard let payload = StrictBase64.decode(String(decoding: lines[2], as: UTF8.self)) else {
            throw CryptoError.badKeyFile("the key file's body is damaged")
        }
        return (headerBytes, h, Array(payload))
    }

    struct StrictHeader: Codable {
        var kdf: String
        var key_id: String
        var kind: String
        var memlimit: Int
        var opslimit: Int
        var salt: String

        func line() -> Data {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return try! enc.encode(self) + Data([0x0a])
        }
    }
}
