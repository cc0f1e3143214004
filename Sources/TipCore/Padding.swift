/// Padded sizes for the tip document (SECURITY.md §3.3).
///
/// The document is padded (ISO/IEC 7816-4, as `sodium_pad` does) to the smallest power of two
/// that is at least 1024 bytes and holds the document plus one byte. An observer of the
/// ciphertext then learns only a size class, never the length of what a witness wrote.
public enum PaddedSize {
    public static let minimum = 1024
    /// The default ceiling on padded plaintext a server accepts: 1 MiB.
    public static let defaultMaximum = 1 << 20
    /// The largest padded size any server may be configured for (`maxPaddedBytes`), and so the
    /// largest a bundle record may carry.
    public static let bundleMaximum = 1 << 26
    /// Bytes a sealed box adds: an ephemeral X25519 public key (32) and a Poly1305 tag (16).
    public static let sealOverhead = 48

    /// The block a document of `documentLength` bytes is padded to.
    public static func forDocument(length documentLength: Int) -> Int {
        var size = minimum
        while size < documentLength + 1 { size <<= 1 }
        return size
    }

    /// True if `n` is a power of two in `minimum...maximum`.
    public static func isValid(_ n: Int, maximum: Int) -> Bool {
        n >= minimum && n <= maximum && n & (n - 1) == 0
    }
}
