import CSodium
import Foundation
import TipCore

/// ISO/IEC 7816-4 padding (`sodium_pad`) to the v1 size classes (SECURITY.md §3.3).
public enum Padding {
    /// Copies `document` into a fresh secure buffer padded to `PaddedSize.forDocument`.
    public static func pad(_ document: UnsafeRawBufferPointer) -> SecureBytes {
        let block = PaddedSize.forDocument(length: document.count)
        let out = SecureBytes(count: block)
        out.withUnsafeMutableBytes { dst in
            if document.count > 0 { dst.baseAddress!.copyMemory(from: document.baseAddress!, byteCount: document.count) }
            var padded = 0
            let rc = sodium_pad(
                &padded, dst.bindMemory(to: UInt8.self).baseAddress!, document.count, block, block)
            precondition(rc == 0 && padded == block, "internal error: sodium_pad")
        }
        return out
    }

    /// The unpadded length of `padded`. The padded length itself MUST be a v1 size class.
    public static func unpaddedLength(_ padded: SecureBytes, maximum: Int = .max) throws -> Int {
        try padded.withUnsafeBytes { try unpaddedLength($0, maximum: maximum) }
    }

    /// The same, of padded bytes in a buffer (a prefix of a reused one).
    public static func unpaddedLength(_ padded: UnsafeRawBufferPointer, maximum: Int = .max) throws -> Int {
        guard PaddedSize.isValid(padded.count, maximum: maximum) else { throw CryptoError.badPadding }
        var len = 0
        let rc = sodium_unpad(&len, padded.bindMemory(to: UInt8.self).baseAddress!, padded.count, padded.count)
        guard rc == 0 else { throw CryptoError.badPadding }
        // The size class must be the smallest that fits: a larger one leaks nothing but is not
        // what a v1 sealer writes, and accepting it would make two encodings of one tip.
        guard PaddedSize.forDocument(length: len) == padded.count else { throw CryptoError.badPadding }
        return len
    }
}

/// The anonymous sealed box (`crypto_box_seal`): an ephemeral X25519 key per tip, so the sender
/// holds no key and two tips from one witness are unlinkable.
public enum SealedBox {
    public static var overhead: Int { crypto_box_sealbytes() }

    public static func seal(_ message: UnsafeRawBufferPointer, to publicKey: [UInt8]) -> [UInt8] {
        Sodium.ready()
        precondition(publicKey.count == 32, "internal error: public key size")
        var out = [UInt8](repeating: 0, count: message.count + overhead)
        let rc = crypto_box_seal(
            &out, message.bindMemory(to: UInt8.self).baseAddress!, UInt64(message.count), publicKey)
        precondition(rc == 0, "internal error: crypto_box_seal")
        return out
    }

    /// Opens into the start of `buffer`, a locked buffer reused from tip to tip (grown when
    /// needed), and returns the plaintext's length: a fresh `SecureBytes` per tip costs an
    /// mmap, mprotects, an mlock and a munmap (issue 9's import profile). The caller MUST wipe
    /// the prefix when done.
    public static func open(_ sealed: [UInt8], with key: IntakeKeyPair, into buffer: inout SecureBytes) throws -> Int {
        Sodium.ready()
        guard sealed.count >= overhead else { throw CryptoError.decryptionFailed }
        let n = sealed.count - overhead
        if buffer.count < n { buffer = SecureBytes(count: Swift.max(n, buffer.count * 2)) }
        let rc = buffer.withUnsafeMutableBytes { m in
            key.secretKey.withUnsafeBytes { sk in
                crypto_box_seal_open(
                    m.bindMemory(to: UInt8.self).baseAddress!, sealed, UInt64(sealed.count), key.publicKey,
                    sk.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        guard rc == 0 else { throw CryptoError.decryptionFailed }
        return n
    }

    public static func open(_ sealed: [UInt8], with key: IntakeKeyPair) throws -> SecureBytes {
        guard sealed.count >= overhead else { throw CryptoError.decryptionFailed }
        var out = SecureBytes(count: sealed.count - overhead)
        _ = try open(sealed, with: key, into: &out)
        return out
    }
}

/// Seals a tip document exactly as SECURITY.md §3 says: encode, pad, seal, wrap.
public enum TipSealer {
    public static func seal(_ tip: TipDocument, to key: PublicKeyDocument, maxPadded: Int = PaddedSize.defaultMaximum) throws -> Submission {
        var doc = [UInt8](tip.encoded())
        defer { zero(&doc) }
        return try seal(plaintext: doc, to: key, maxPadded: maxPadded, tooLarge: "the tip is too large once encoded; shorten it or its fields")
    }

    /// Pads and seals any plaintext a sealed box may hold (§3.3; a tip document, or a signed
    /// forward, §11.3) into a submission for `key`.
    public static func seal(plaintext: [UInt8], to key: PublicKeyDocument, maxPadded: Int, tooLarge: String) throws -> Submission {
        guard PaddedSize.forDocument(length: plaintext.count) <= maxPadded else { throw FormatError("tip_too_large", tooLarge) }
        let padded = plaintext.withUnsafeBytes { Padding.pad($0) }
        return Submission(keyID: key.keyID, sealed: padded.withUnsafeBytes { SealedBox.seal($0, to: key.publicKey) })
    }
}

/// Opens sealed tips with the reviewer's keys (SECURITY.md §3.6): key id, then box, then
/// padding, then the document. Each step has its own error.
public struct TipOpener {
    private let keys: [KeyID: IntakeKeyPair]

    public init(keys: [IntakeKeyPair]) {
        var m = [KeyID: IntakeKeyPair]()
        for k in keys { m[k.keyID] = k }
        self.keys = m
    }

    public func canOpen(_ keyID: KeyID) -> Bool { keys[keyID] != nil }

    func key(_ keyID: KeyID) -> IntakeKeyPair? { keys[keyID] }

    /// Opens a sealed box that must hold a witness's tip document (not a forward, §11.3).
    public func open(keyID: KeyID, sealed: [UInt8]) throws -> TipDocument {
        guard case (.tip(let doc), _) = try openPlaintext(keyID: keyID, sealed: sealed) else {
            throw FormatError("invalid_json", "the sealed box holds a forward from another organization, not a tip document")
        }
        return doc
    }
}
