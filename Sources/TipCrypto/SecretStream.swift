import CSodium
import Foundation
import TipCore

/// A key derived from the vault passphrase the way SECURITY.md §2.3 does it, shared by the
/// secret-key file and the backup:
///
///     S = Argon2id13(passphrase, salt, opslimit, memlimit)     (32 bytes, crypto_pwhash)
///     K = BLAKE2b-256(key = S, message = context)
///
/// The context is the exact header bytes of the file K protects, so any change to the header
/// (weaker limits, another salt) fails exactly like a wrong passphrase.
public enum PassphraseKey {
    public static let algorithm = "argon2id13"
    public static var saltBytes: Int { crypto_pwhash_saltbytes() }

    /// The bounds of §2.3: an edited header must not cost unbounded memory or be trivially weak.
    public static func limitsAllowed(opslimit: Int, memlimit: Int) -> Bool {
        (crypto_pwhash_opslimit_interactive()...32).contains(opslimit)
            && (crypto_pwhash_memlimit_interactive()...(4 << 30)).contains(memlimit)
    }

    public static func derive(passphrase: SecureBytes, salt: [UInt8], opslimit: Int, memlimit: Int, context: Data) throws -> SecureBytes {
        Sodium.ready()
        precondition(salt.count == saltBytes, "internal error: salt size")
        let master = SecureBytes(count: 32)
        let rc = master.withUnsafeMutableBytes { out in
            passphrase.withUnsafeBytes { pw in
                crypto_pwhash(
                    out.bindMemory(to: UInt8.self).baseAddress!, 32,
                    pw.bindMemory(to: CChar.self).baseAddress!, UInt64(pw.count), salt,
                    UInt64(opslimit), memlimit, crypto_pwhash_alg_argon2id13())
            }
        }
        guard rc == 0 else { throw CryptoError("out_of_memory", "Argon2id could not get the memory it needs") }
        let key = SecureBytes(count: 32)
        key.withUnsafeMutableBytes { k in
            master.withUnsafeBytes { m in
                context.withUnsafeBytes { h in
                    _ = crypto_generichash(
                        k.bindMemory(to: UInt8.self).baseAddress!, 32, h.bindMemory(to: UInt8.self).baseAddress,
                        UInt64(h.count), m.bindMemory(to: UInt8.self).baseAddress!, 32)
                }
            }
        }
        return key
    }
}

/// libsodium's `crypto_secretstream_xchacha20poly1305`: a long message cut into chunks, each
/// authenticated and bound to its position, the last one tagged FINAL, so reordering, dropping
/// or truncating chunks is detected (the backup, `tipdesk backup`).
///
/// Only the tags MESSAGE and FINAL are written or accepted. The state holds the key, so it
/// lives in `SecureBytes`. The plaintext is returned as an ordinary array: its one user, the
/// backup, carries only files that are themselves ciphertext or public.
public enum SecretStream {
    public static var headerBytes: Int { crypto_secretstream_xchacha20poly1305_headerbytes() }
    /// Bytes each chunk adds: a 1-byte encrypted tag and a 16-byte MAC.
    public static var overhead: Int { crypto_secretstream_xchacha20poly1305_abytes() }
    public static var keyBytes: Int { crypto_secretstream_xchacha20poly1305_keybytes() }

    public static let damaged = CryptoError("stream_damaged", "a chunk of the encrypted stream does not authenticate")

    public final class Writer {
        private let state = SecureBytes(count: crypto_secretstream_xchacha20poly1305_statebytes())
        /// Goes before the first chunk; it is the stream's random nonce, not secret.
        public let header: [UInt8]
        private var finished = false

        public init(key: SecureBytes) {
            Sodium.ready()
            precondition(key.count == SecretStream.keyBytes, "internal error: secretstream key size")
            var h = [UInt8](repeating: 0, count: SecretStream.headerBytes)
            state.withUnsafeMutableBytes { st in
                key.withUnsafeBytes { k in
                    _ = crypto_secretstream_xchacha20poly1305_init_push(
                        st.bindMemory(to: crypto_secretstream_xchacha20poly1305_state.self).baseAddress!, &h,
                        k.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
            header = h
        }

        /// Encrypts one chunk. After a `final` chunk the writer takes no more.
        public func push(_ message: UnsafeRawBufferPointer, final: Bool) -> [UInt8] {
            precondition(!finished, "internal error: push after the final chunk")
            finished = final
            var out = [UInt8](repeating: 0, count: message.count + SecretStream.overhead)
            let tag = final ? crypto_secretstream_xchacha20poly1305_tag_final() : crypto_secretstream_xchacha20poly1305_tag_message()
            state.withUnsafeMutableBytes { st in
                _ = crypto_secretstream_xchacha20poly1305_push(
                    st.bindMemory(to: crypto_secretstream_xchacha20poly1305_state.self).baseAddress!, &out, nil,
                    message.bindMemory(to: UInt8.self).baseAddress, UInt64(message.count), nil, 0, tag)
            }
            return out
        }
    }

    public final class Reader {
        private let state = SecureBytes(count: crypto_secretstream_xchacha20poly1305_statebytes())
        public private(set) var finished = false

        public init(key: SecureBytes, header: [UInt8]) throws {
            Sodium.ready()
            precondition(key.count == SecretStream.keyBytes, "internal error: secretstream key size")
            guard header.count == SecretStream.headerBytes else { throw SecretStream.damaged }
            let rc = state.withUnsafeMutableBytes { st in
                key.withUnsafeBytes { k in
                    crypto_secretstream_xchacha20poly1305_init_pull(
                        st.bindMemory(to: crypto_secretstream_xchacha20poly1305_state.self).baseAddress!, header,
                        k.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
            guard rc == 0 else { throw SecretStream.damaged }
        }

        /// Decrypts the next chunk and says whether it was the final one. A chunk after the
        /// final one, a chunk that does not authenticate, or a tag other than MESSAGE and
        /// FINAL is `stream_damaged`.
        public func pull(_ chunk: UnsafeRawBufferPointer) throws -> (message: [UInt8], final: Bool) {
            guard !finished, chunk.count >= SecretStream.overhead else { throw SecretStream.damaged }
            var out = [UInt8](repeating: 0, count: chunk.count - SecretStream.overhead)
            var len: UInt64 = 0
            var tag: UInt8 = 0
            let rc = state.withUnsafeMutableBytes { st in
                crypto_secretstream_xchacha20poly1305_pull(
                    st.bindMemory(to: crypto_secretstream_xchacha20poly1305_state.self).baseAddress!, &out, &len, &tag,
                    chunk.bindMemory(to: UInt8.self).baseAddress!, UInt64(chunk.count), nil, 0)
            }
            guard rc == 0, Int(len) == out.count else { throw SecretStream.damaged }
            if tag == crypto_secretstream_xchacha20poly1305_tag_final() {
                finished = true
            } else if tag != crypto_secretstream_xchacha20poly1305_tag_message() {
                throw SecretStream.damaged
            }
            return (out, finished)
        }
    }
}
