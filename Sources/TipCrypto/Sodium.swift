import CSodium
import Foundation
import TipCore

/// The only place libsodium is initialised. `sodium_init` is idempotent and thread-safe, but a
/// static let makes "once" explicit and lets every entry point call `Sodium.ready()` cheaply.
enum Sodium {
    private static let initialised: Bool = sodium_init() >= 0

    static func ready() {
        // A libsodium that cannot initialise (no entropy source) must never produce keys.
        precondition(initialised, "internal error: libsodium failed to initialise")
    }
}

/// Errors from TipCrypto. Few and typed (STYLE.md, age): callers match on `code`.
public struct CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String

    init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public static let decryptionFailed = CryptoError(
        "decryption_failed", "the tip could not be decrypted: it was altered, or sealed to another key")
    public static let badPadding = CryptoError("bad_padding", "the decrypted tip has invalid padding")
    public static let wrongPassphrase = CryptoError(
        "wrong_passphrase", "wrong passphrase, or the key file was altered")
    public static func badKeyFile(_ why: String) -> CryptoError { .init("bad_key_file", why) }
}

/// Random bytes from libsodium's CSPRNG.
public enum Random {
    public static func bytes(_ n: Int) -> [UInt8] {
        Sodium.ready()
        var out = [UInt8](repeating: 0, count: n)
        out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        return out
    }

    /// A fresh 128-bit tip id (SECURITY.md §4.2).
    public static func tipID() -> TipID { TipID(Hex.encode(bytes(16)))! }

    /// 128 random bits in hex, for ids of other things (server instances).
    public static func hex128() -> String { Hex.encode(bytes(16)) }
}

/// BLAKE2b (`crypto_generichash`).
public enum BLAKE2b {
    public static func hash<D: ContiguousBytes>(_ data: D, length: Int = 32, key: [UInt8] = []) -> [UInt8] {
        Sodium.ready()
        precondition(length >= 16 && length <= 64, "internal error: BLAKE2b length out of range")
        var out = [UInt8](repeating: 0, count: length)
        data.withUnsafeBytes { d in
            key.withUnsafeBufferPointer { k in
                _ = crypto_generichash(
                    &out, length, d.bindMemory(to: UInt8.self).baseAddress, UInt64(d.count),
                    k.baseAddress, k.count)
            }
        }
        return out
    }
}

/// SHA-512 (`crypto_hash_sha512`): for Subresource Integrity of the page scripts, and for
/// checking the installed tweetnacl file against its committed hash.
public enum SHA512 {
    public static func hash<D: ContiguousBytes>(_ data: D) -> [UInt8] {
        Sodium.ready()
        var out = [UInt8](repeating: 0, count: 64)
        data.withUnsafeBytes { d in
            _ = crypto_hash_sha512(&out, d.bindMemory(to: UInt8.self).baseAddress, UInt64(d.count))
        }
        return out
    }
}

/// Zeroes memory the caller does not own as a Swift value, such as a request buffer's bytes.
public func zero(_ buffer: UnsafeMutableRawBufferPointer) {
    if let b = buffer.baseAddress { sodium_memzero(b, buffer.count) }
}
