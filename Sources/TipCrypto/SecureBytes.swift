import CSodium

/// Bytes in `sodium_malloc` memory: guard pages around it, `mlock`ed so it is not swapped out
/// where the OS allows, and zeroed by `sodium_free` on release (non-negotiable 1).
///
/// Holds secret keys, passphrases and plaintext. Not `Sendable`: a secret stays in the task
/// that uses it.
public final class SecureBytes {
    private let base: UnsafeMutableRawPointer
    public let count: Int

    public init(count: Int) {
        Sodium.ready()
        guard let p = sodium_malloc(Swift.max(count, 1)) else {
            fatalError("internal error: sodium_malloc failed")
        }
        sodium_memzero(p, Swift.max(count, 1))
        base = p
        self.count = count
    }

    /// Copies `bytes` in. The caller still owns (and should zero) the source.
    public convenience init<C: Collection>(copying bytes: C) where C.Element == UInt8 {
        self.init(count: bytes.count)
        let dst = base.assumingMemoryBound(to: UInt8.self)
        for (i, b) in bytes.enumerated() { dst[i] = b }
    }

    /// Copies raw memory in.
    public convenience init(copying raw: UnsafeRawBufferPointer) {
        self.init(count: raw.count)
        if raw.count > 0 { base.copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
    }

    deinit { sodium_free(base) }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    /// Zeroes the first `n` bytes (a reused buffer, between records).
    public func wipe(prefix n: Int) { sodium_memzero(base, Swift.min(Swift.max(n, 0), count)) }

    /// Constant-time comparison (`sodium_memcmp`).
    public func constantTimeEquals(_ other: SecureBytes) -> Bool {
        count == other.count && sodium_memcmp(base, other.base, count) == 0
    }

    /// A copy of the first `n` bytes as an ordinary array: only for data that is not secret
    /// once it leaves here (a public key) or that the caller zeroes itself.
    func prefixArray(_ n: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: base, count: n))
    }
}

/// Zeroes an ordinary buffer the caller is done with (`sodium_memzero`, which the compiler may
/// not optimise away).
public func zero(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { if let b = $0.baseAddress { sodium_memzero(b, $0.count) } }
}
