import Foundation

/// One stored, still-sealed tip: what the server keeps and what a bundle carries.
public struct SealedTip: Equatable, Sendable {
    public let id: TipID
    public let keyID: KeyID
    public let day: Day
    public let sealed: [UInt8]

    public init(id: TipID, keyID: KeyID, day: Day, sealed: [UInt8]) {
        self.id = id
        self.keyID = keyID
        self.day = day
        self.sealed = sealed
    }
}

/// The export bundle, v1 (SECURITY.md §5): JSON lines.
///
///     {"count":N,"created":"YYYY-MM-DD","format":"tipgate-bundle","instance":"<32 hex>","v":1}
///     {"day":"…","id":"…","key_id":"…","sealed":"<base64>"}      (N record lines)
///     {"blake2b":"<64 hex>","count":N,"end":true}
///
/// The trailer's digest is BLAKE2b-256 over every byte before the trailer line, so a truncated
/// or corrupted bundle is refused whole rather than half imported. TipCore has no hash, so
/// callers pass one in.
public enum ExportBundle {
    public static let format = "tipgate-bundle"
    public static let version = 1

    public struct Header: Equatable, Sendable {
        public let instance: String
        public let created: Day
        public let count: Int
    }

    /// Encodes a bundle. `digest` is BLAKE2b-256.
    public static func encode(
        instance: String, created: Day, tips: [SealedTip], digest: (Data) -> [UInt8]
    ) -> Data {
        var out = StrictJSON.encode(
            HeaderWire(format: format, v: version, instance: instance, created: created.text, count: tips.count)
        )
        out.append(0x0a)
        for t in tips {
            out.append(
                StrictJSON.encode(
                    RecordWire(id: t.id.hex, key_id: t.keyID.hex, day: t.day.text, sealed: Data(t.sealed).base64EncodedString())
                )
            )
            out.append(0x0a)
        }
        let sum = Hex.encode(digest(out))
        out.append(StrictJSON.encode(TrailerWire(end: true, count: tips.count, blake2b: sum)))
        out.append(0x0a)
        return out
    }

    /// Runs `body` for every index below `iterations`, perhaps at once on several threads
    /// (TipDesk passes its `Workers.perform`; TipCore itself stays serial).
    public typealias ConcurrentPerform = (_ iterations: Int, _ body: @Sendable (Int) -> Void) -> Void

    /// Decodes and verifies a whole bundle. Any defect rejects the bundle: nothing is returned
    /// from a bundle that is not intact. The checksum is checked first, over the whole bundle;
    /// then the header, and the record lines in order, so the error is the one of the first bad
    /// line whichever thread read it. With `concurrently`, the record lines are read on several
    /// threads while one computes the checksum (issue 9: the checksum of a 100k-tip bundle was
    /// a serial 0.25 s of a 4 s import). What they read is used only once the checksum has
    /// matched. Reading first adds no exposure: the checksum is no MAC (anyone can make one for
    /// any bytes), so the lines of a bundle that fails it are no worse than those of one that
    /// passes, and the reader takes either.
    public static func decode(
        _ data: Data, digest: @Sendable (Data) -> [UInt8], concurrently: ConcurrentPerform = { n, body in for i in 0..<n { body(i) } }
    ) throws -> (Header, [SealedTip]) {
        guard data.last == 0x0a else { throw FormatError("bad_bundle", "the bundle is truncated (no final newline)") }
        let body = data.dropLast()
        guard let lastNL = body.lastIndex(of: 0x0a) else { throw FormatError("bad_bundle", "the bundle has no records or trailer") }
        let covered = data[data.startIndex...lastNL]
        let trailerBytes = Data(body[(lastNL + 1)...])
        let trailer: TrailerWire
        do { trailer = try StrictJSON.decode(TrailerWire.self, from: trailerBytes) } catch {
            throw FormatError("bad_bundle", "the bundle's trailer is missing: it may be truncated")
        }
        return try covered.withUnsafeBytes { bytes in
            // Every line of `covered` ends with LF, its last byte.
            let lines = Self.lines(bytes)
            let sum = Slot()
            let read = withoutActuallyEscaping(digest) { digest in
                Self.records(bytes, lines.dropFirst(), concurrently: concurrently) { sum.digest = digest(covered) }
            }
            guard trailer.end, Hex.encode(sum.digest) == trailer.blake2b else {
                throw FormatError("bad_bundle", "the bundle's checksum does not match: it is corrupt or was changed")
            }
            guard let first = lines.first else { throw FormatError("bad_bundle", "the bundle has no header") }
            let h: HeaderWire
            do { h = try StrictJSON.decode(HeaderWire.self, from: Data(bytes[first])) } catch {
                throw FormatError("bad_bundle", "the bundle's header is not valid")
            }
            guard h.format == format else { throw FormatError("bad_bundle", "not a tipgate bundle") }
            guard h.v == version else { throw FormatError("unsupported_version", "bundle version \(h.v) is not supported") }
            guard Hex.isLowercaseHex(h.instance, length: 32), let created = Day(h.created) else {
                throw FormatError("bad_bundle", "the bundle's header is not valid")
            }
            guard h.count == lines.count - 1, trailer.count == h.count else {
                throw FormatError("bad_bundle", "the bundle's record count does not match its header")
            }
            // Lines in order: the error is the one of the first bad line, whichever thread read it.
            let tips = read.tips
            for i in tips.indices {
                // Records MUST be in strictly ascending id order (no duplicates, no arrival order),
                // and each sealed box MUST be a v1 size class (SECURITY.md §5).
                guard i == 0 || tips[i - 1].id < tips[i].id else {
                    throw FormatError("bad_bundle", "the bundle's records are not in ascending id order")
                }
                guard PaddedSize.isValid(tips[i].sealed.count - PaddedSize.sealOverhead, maximum: PaddedSize.bundleMaximum) else {
                    throw FormatError("bad_bundle", "a bundle record has a sealed size no server accepts")
                }
            }
            guard read.bad == nil else { throw FormatError("bad_bundle", "a bundle record is not valid") }
            return (Header(instance: h.instance, created: created, count: h.count), tips)
        }
    }

    /// The lines of `bytes` (which ends with LF), without their LF, found with `memchr`.
    static func lines(_ bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        var out = [Range<Int>]()
        guard let base = bytes.baseAddress else { return out }
        var start = 0
        while start < bytes.count, let nl = memchr(base + start, 0x0a, bytes.count - start) {
            let end = base.distance(to: UnsafeRawPointer(nl))
            out.append(start..<end)
            start = end + 1
        }
        return out
    }

    /// Each record line read (`record`), in line order; or, if a line is not a valid record,
    /// the index of the first such line and the records before it; `alongside` runs once, beside the reading, and has returned when
    /// this does. The tips are written in place, in the array returned: a 100k-tip bundle's
    /// copy into another array was a serial tenth of a second of a two-core import (issue 9).
    private static func records(
        _ bytes: UnsafeRawBufferPointer, _ lines: ArraySlice<Range<Int>>, concurrently: ConcurrentPerform,
        alongside: @escaping @Sendable () -> Void
    ) -> (tips: [SealedTip], bad: Int?) {
        let lines = Array(lines)
        let n = lines.count
        // Chunks of lines, several per thread. Each chunk initializes its own slots in order
        // and stops at its first bad line, noting it; so chunk c holds tips from its start up
        // to firstBad[c] (Int.max: its end).
        let chunk = 1024
        let chunks = (n + chunk - 1) / chunk
        var bad: Int?
        let tips = [SealedTip](unsafeUninitializedCapacity: n) { out, initialized in
            let firstBad = UnsafeMutableBufferPointer<Int>.allocate(capacity: chunks)
            defer { firstBad.deallocate() }
            firstBad.initialize(repeating: Int.max)
            let shared = Shared(bytes: bytes, out: out, firstBad: firstBad)
            // Job 0 is `alongside`; job c > 0 reads chunk c - 1.
            concurrently(chunks + 1) { job in
                guard job > 0 else { return alongside() }
                let c = job - 1
                for i in (c * chunk)..<min(n, (c + 1) * chunk) {
                    guard let t = ExportBundle.record(UnsafeRawBufferPointer(rebasing: shared.bytes[lines[i]])) else {
                        shared.firstBad[c] = i
                        return
                    }
                    (shared.out.baseAddress! + i).initialize(to: t)
                }
            }
            bad = firstBad.min().flatMap { $0 == Int.max ? nil : $0 }
            guard let bad else {
                initialized = n
                return
            }
            // Lines before the first bad one all hold tips (their chunks stopped later, if at
            // all); keep those, for errors of earlier lines to come first, and release the rest.
            for c in 0..<chunks {
                let start = max(bad, c * chunk)
                let end = min(n, (c + 1) * chunk, firstBad[c])
                if end > start { (out.baseAddress! + start).deinitialize(count: end - start) }
            }
            initialized = bad
        }
        return (tips, bad)
    }

    /// The checksum computed beside the reading: written by one job, read after all returned.
    private final class Slot: @unchecked Sendable {
        var digest = [UInt8]()
    }

    /// The bundle's bytes and the result slots, shared with the threads of `records`: the bytes
    /// are only read, and each slot is written by one thread, before `concurrently` returns.
    private struct Shared: @unchecked Sendable {
        let bytes: UnsafeRawBufferPointer
        let out: UnsafeMutableBufferPointer<SealedTip>
        let firstBad: UnsafeMutableBufferPointer<Int>
    }

    // Closed formats (SECURITY.md §1): each line rejects members it does not know.

    struct HeaderWire: Codable {
        var format: String
        var v: Int
        var instance: String
        var created: String
        var count: Int

        init(format: String, v: Int, instance: String, created: String, count: Int) {
            (self.format, self.v, self.instance, self.created, self.count) = (format, v, instance, created, count)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["format", "v", "instance", "created", "count"])
            (format, v) = (try c.require(String.self, "format"), try c.require(Int.self, "v"))
            (instance, created) = (try c.require(String.self, "instance"), try c.require(String.self, "created"))
            count = try c.require(Int.self, "count")
        }
    }

    struct RecordWire: Codable {
        var id: String
        var key_id: String
        var day: String
        var sealed: String

        init(id: String, key_id: String, day: String, sealed: String) {
            (self.id, self.key_id, self.day, self.sealed) = (id, key_id, day, sealed)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["id", "key_id", "day", "sealed"])
            (id, key_id) = (try c.require(String.self, "id"), try c.require(String.self, "key_id"))
            (day, sealed) = (try c.require(String.self, "day"), try c.require(String.self, "sealed"))
        }
    }

    struct TrailerWire: Codable {
        var end: Bool
        var count: Int
        var blake2b: String

        init(end: Bool, count: Int, blake2b: String) {
            (self.end, self.count, self.blake2b) = (end, count, blake2b)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["end", "count", "blake2b"])
            (end, count) = (try c.require(Bool.self, "end"), try c.require(Int.self, "count"))
            blake2b = try c.require(String.self, "blake2b")
        }
    }
}
