import CSodium
import Foundation
import TipCore

/// How a vault key is named: like an intake key (§2.1), with a `vault:` prefix on the
/// fingerprint so it is never mistaken for an intake key or the root.
public enum VaultIdentity {
    public static func document(for publicKey: [UInt8]) -> VaultKeyDocument { .derived(from: publicKey) }

    /// A vault document whose id and fingerprint derive from its key. A sharer MUST check this
    /// before sealing to it (the same rule as §2.2).
    public static func verifiedDocument(_ data: Data) throws -> VaultKeyDocument { try .verified(data) }
}

/// The document inside a key share (`tipdesk keys share`), closed JSON (§1), sorted keys:
///
///     {"keyring":"<base64 of VAULT/keyring.json>","keys":[{"key_id":"<16 hex>",
///      "public_key":"<base64 of 32>","secret_key":"<base64 of 32>"}, …],"kind":"tipdesk-key-share","v":1}
///
/// `keyring` is omitted when the sharing vault has none; `keys` has 1 to `maxKeys` intake keys
/// with distinct ids, each id derived from its public key and each secret matching it. The
/// document holds secret keys, so it is built and parsed only in `SecureBytes`: the writer puts
/// base64 straight into locked memory with `sodium_bin2base64`, and the reader below never
/// makes a Swift string of a secret. It accepts no string escapes and only ASCII inside
/// strings, which every value of this format is. The document is padded as in §3.3 and sealed
/// with `crypto_box_seal` to the recipient's vault key.
///
/// The sealed box is anonymous: a share proves nothing about who made it. The receiver shows
/// what it imports; a keyring in it is taken only when it verifies against a pinned root.
public enum KeyShare {
    public static let kind = "tipdesk-key-share"
    public static let maxKeys = 1024
    /// The largest padded document accepted; its sealed base64 fits the share file's cap
    /// (`KeyShareEnvelope.maxFileBytes`).
    public static let maxPadded = 1 << 23

    public struct Contents {
        public let keys: [IntakeKeyPair]
        public let keyring: Data?
    }

    public static func seal(keys: [IntakeKeyPair], keyring: Data?, to recipient: [UInt8]) -> [UInt8] {
        precondition(!keys.isEmpty && keys.count <= maxKeys, "internal error: key share size")
        let b64 = { (n: Int) in sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL) - 1 }
        let fixed = "{" + (keyring.map { "\"keyring\":\"\(Data($0).base64EncodedString())\"," } ?? "") + "\"keys\":["
        var length = fixed.utf8.count
        for (i, k) in keys.enumerated() {
            length += entryPrefix(k, first: i == 0).utf8.count + b64(k.secretKey.count) + 2
        }
        let tail = "],\"kind\":\"\(kind)\",\"v\":1}"
        length += tail.utf8.count
        // One spare byte: sodium_bin2base64 writes a NUL after the text, which the next append
        // overwrites.
        let doc = SecureBytes(count: length + 1)
        var at = 0
        doc.withUnsafeMutableBytes { d in
            func append(_ s: String) {
                for c in s.utf8 {
                    d[at] = c
                    at += 1
                }
            }
            append(fixed)
            for (i, k) in keys.enumerated() {
                append(entryPrefix(k, first: i == 0))
                k.secretKey.withUnsafeBytes { sk in
                    _ = sodium_bin2base64(
                        (d.baseAddress! + at).assumingMemoryBound(to: CChar.self), d.count - at,
                        sk.bindMemory(to: UInt8.self).baseAddress!, sk.count, sodium_base64_VARIANT_ORIGINAL)
                }
                at += b64(k.secretKey.count)
                append("\"}")
            }
            append(tail)
        }
        precondition(at == length, "internal error: key share length")
        let padded = doc.withUnsafeBytes { Padding.pad(UnsafeRawBufferPointer(rebasing: $0.prefix(length))) }
        return padded.withUnsafeBytes { SealedBox.seal($0, to: recipient) }
    }

    private static func entryPrefix(_ k: IntakeKeyPair, first: Bool) -> String {
        (first ? "" : ",") + "{\"key_id\":\"\(k.keyID.hex)\",\"public_key\":\"\(Data(k.publicKey).base64EncodedString())\",\"secret_key\":\""
    }

    /// Opens a share with the vault key: box (`decryption_failed`: another recipient or
    /// altered), padding (`bad_padding`), then the document (`bad_share`).
    public static func open(_ sealed: [UInt8], with vaultKey: IntakeKeyPair) throws -> Contents {
        guard sealed.count <= maxPadded + SealedBox.overhead else { throw CryptoError.decryptionFailed }
        let padded = try SealedBox.open(sealed, with: vaultKey)
        let n = try Padding.unpaddedLength(padded, maximum: maxPadded)
        return try padded.withUnsafeBytes { try parse(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> Contents {
        var s = Scanner(b: bytes)
        var version: Int?
        var kindOK = false
        var keyring: Data?
        var keys: [IntakeKeyPair]?
        try s.object { name, s in
            switch name {
            case "v": version = try s.integer()
            case "kind":
                let r = try s.string()
                kindOK = s.text(r) == kind
            case "keyring":
                let r = try s.string()
                guard let d = StrictBase64.decode(s.text(r)), !d.isEmpty else { throw badShare("keyring is not base64") }
                keyring = d
            case "keys":
                var list = [IntakeKeyPair]()
                var ids = Set<KeyID>()
                try s.array { s in
                    guard list.count < maxKeys else { throw badShare("too many keys") }
                    let k = try key(&s)
                    guard ids.insert(k.keyID).inserted else { throw badShare("a key appears twice") }
                    list.append(k)
                }
                keys = list
            default: throw badShare("an unknown member is present (v1 formats are closed)")
            }
        }
        s.whitespace()
        guard s.i == bytes.count else { throw badShare("trailing data after the document") }
        guard version == 1 else { throw CryptoError("unsupported_version", "key share version is not supported") }
        guard kindOK else { throw badShare("not a key share document") }
        guard let keys, !keys.isEmpty else { throw badShare("the share holds no key") }
        return Contents(keys: keys, keyring: keyring)
    }

    private static func key(_ s: inout Scanner) throws -> IntakeKeyPair {
        var id: KeyID?
        var pk: [UInt8]?
        var sk: SecureBytes?
        try s.object { name, s in
            switch name {
            case "key_id":
                let r = try s.string()
                id = KeyID(s.text(r))
            case "public_key":
                let r = try s.string()
                pk = StrictBase64.decode(s.text(r)).map(Array.init)
            case "secret_key":
                let r = try s.string()
                sk = try s.secret(r, length: 32)
            default: throw badShare("an unknown member is present (v1 formats are closed)")
            }
        }
        guard let id, let pk, pk.count == 32, let sk else { throw badShare("a key is incomplete or malformed") }
        guard KeyIdentity.keyID(for: pk) == id else { throw badShare("a key id is not derived from its key") }
        do { return try IntakeKeyPair(publicKey: pk, secretKey: sk) } catch { throw badShare("a secret key does not match its public key") }
    }

    static func badShare(_ why: String) -> CryptoError { CryptoError("bad_share", "the key share is damaged: \(why)") }

    /// A JSON reader for this one closed format, over locked memory. Names and public values
    /// become Swift strings; secret values are decoded from their byte range only.
    struct Scanner {
        let b: UnsafeRawBufferPointer
        var i = 0

        mutating func whitespace() {
            while i < b.count, [0x20, 0x09, 0x0a, 0x0d].contains(b[i]) { i += 1 }
        }

        mutating func expect(_ c: UInt8) throws {
            whitespace()
            guard i < b.count, b[i] == c else { throw KeyShare.badShare("not valid JSON") }
            i += 1
        }

        mutating func peek(_ c: UInt8) -> Bool {
            whitespace()
            return i < b.count && b[i] == c
        }

        /// A string of printable ASCII without escapes; returns its byte range.
        mutating func string() throws -> Range<Int> {
            try expect(0x22)
            let start = i
            while i < b.count, b[i] != 0x22 {
                guard (0x20...0x7e).contains(b[i]), b[i] != 0x5c else { throw KeyShare.badShare("a string holds an escape or a non-ASCII byte") }
                i += 1
            }
            guard i < b.count else { throw KeyShare.badShare("not valid JSON") }
            i += 1
            return start..<(i - 1)
        }

        func text(_ r: Range<Int>) -> String { String(decoding: UnsafeRawBufferPointer(rebasing: b[r]), as: UTF8.self) }

        /// Decodes canonical standard base64 (libsodium rejects stray low bits) of exactly
        /// `length` bytes into locked memory.
        func secret(_ r: Range<Int>, length: Int) throws -> SecureBytes {
            let out = SecureBytes(count: length)
            var n = 0
            var end: UnsafePointer<CChar>?
            let start = (b.baseAddress! + r.lowerBound).assumingMemoryBound(to: CChar.self)
            let rc = out.withUnsafeMutableBytes { o in
                sodium_base642bin(o.bindMemory(to: UInt8.self).baseAddress!, length, start, r.count, nil, &n, &end, sodium_base64_VARIANT_ORIGINAL)
            }
            guard rc == 0, n == length, end == start + r.count else { throw KeyShare.badShare("a secret key is not base64 of \(length) bytes") }
            return out
        }

        mutating func integer() throws -> Int {
            whitespace()
            let start = i
            while i < b.count, (0x30...0x39).contains(b[i]), i - start < 9 { i += 1 }
            guard i > start, !(b[start] == 0x30 && i - start > 1) else { throw KeyShare.badShare("not valid JSON") }
            return Int(text(start..<i))!
        }

        /// Calls `member` for each name; a repeated name is refused.
        mutating func object(_ member: (String, inout Scanner) throws -> Void) throws {
            try expect(0x7b)
            var seen = Set<String>()
            if peek(0x7d) {
                i += 1
                return
            }
            repeat {
                let r = try string()
                let name = text(r)
                guard seen.insert(name).inserted else { throw KeyShare.badShare("a member appears twice") }
                try expect(0x3a)
                try member(name, &self)
            } while try comma(or: 0x7d)
        }

        mutating func array(_ element: (inout Scanner) throws -> Void) throws {
            try expect(0x5b)
            if peek(0x5d) {
                i += 1
                return
            }
            repeat { try element(&self) } while try comma(or: 0x5d)
        }

        /// True after a comma, false after the closing bracket.
        private mutating func comma(or close: UInt8) throws -> Bool {
            if peek(0x2c) {
                i += 1
                return true
            }
            try expect(close)
            return false
        }
    }
}
