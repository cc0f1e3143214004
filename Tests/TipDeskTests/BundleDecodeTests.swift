import Dispatch
import Foundation
import Testing
import TipCore
import TipCrypto

/// The bundle's records are read on several threads (SECURITY.md §5): the result, and for a bad
/// bundle the error, must be those of reading them in order on one.
@Suite struct BundleDecodeTests {
    static let tips: [SealedTip] = {
        let key = IntakeKeyPair.generate().document
        // More than one chunk of lines, so several threads take part.
        return (0..<2500).map { i in
            let s = try! TipSealer.seal(TipDocument(body: "tip \(i)"), to: key)
            return SealedTip(id: Random.tipID(), keyID: s.keyID, day: .today, sealed: s.sealed)
        }.sorted { $0.id < $1.id }
    }()

    static func decode(_ data: Data, concurrently: Bool) throws -> (ExportBundle.Header, [SealedTip]) {
        if !concurrently { return try ExportBundle.decode(data) { BLAKE2b.hash($0) } }
        return try ExportBundle.decode(data, digest: { BLAKE2b.hash($0) }) { n, body in
            DispatchQueue.concurrentPerform(iterations: n, execute: body)
        }
    }

    /// The bundle of `tips`, its record lines passed through `edit` (line number from 1, line)
    /// and the checksum recomputed, as someone able to rewrite the file would.
    static func resigned(_ edit: (Int, String) -> String = { $1 }) -> Data {
        let data = ExportBundle.encode(instance: Random.hex128(), created: .today, tips: tips) { BLAKE2b.hash($0) }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast(2)  // the trailer and the empty string after the last LF
        for i in 1..<lines.count { lines[i] = edit(i, lines[i]) }
        let body = Data((lines.joined(separator: "\n") + "\n").utf8)
        let trailer = #"{"blake2b":"\#(Hex.encode(BLAKE2b.hash(body)))","count":\#(tips.count),"end":true}"#
        return body + Data((trailer + "\n").utf8)
    }

    func error(_ data: Data, concurrently: Bool) -> FormatError? {
        do {
            _ = try Self.decode(data, concurrently: concurrently)
            return nil
        } catch {
            return error as? FormatError
        }
    }

    /// The records are read beside the checksum, but a bundle whose checksum fails reports
    /// that, not its bad lines, and a bad header still comes before bad records (§5).
    @Test func checksumAndHeaderErrorsComeFirst() throws {
        let good = Self.resigned()
        var text = String(decoding: good, as: UTF8.self)
        text = text.replacingOccurrences(of: #""sealed":""#, with: #""sealed":"!"#)
        for concurrently in [false, true] {
            #expect(error(Data(text.utf8), concurrently: concurrently)?.message.contains("checksum") == true)
            let badHeader = Self.resigned { i, l in i == 3 ? "not json" : l }
            var lines = String(decoding: badHeader, as: UTF8.self).split(separator: "\n").map(String.init)
            lines[0] = lines[0].replacingOccurrences(of: "tipgate-bundle", with: "other-bundle")
            let body = Data((lines.dropLast().joined(separator: "\n") + "\n").utf8)
            let resummed = body + Data((#"{"blake2b":"\#(Hex.encode(BLAKE2b.hash(body)))","count":\#(Self.tips.count),"end":true}"# + "\n").utf8)
            #expect(error(resummed, concurrently: concurrently)?.message == "not a tipgate bundle")
        }
    }

    @Test func concurrentReadIsTheSerialRead() throws {
        let data = Self.resigned()
        let (h1, t1) = try Self.decode(data, concurrently: false)
        let (h2, t2) = try Self.decode(data, concurrently: true)
        #expect(h1 == h2 && h1.count == Self.tips.count)
        #expect(t1 == Self.tips && t2 == Self.tips)
    }

    /// A JSON escape is not the exporter's form, so that line is read by the JSON decoder,
    /// which accepts it as before.
    @Test func escapedRecordIsStillRead() throws {
        let data = Self.resigned { i, l in i == 7 ? l.replacingOccurrences(of: "/", with: "\\/") : l }
        #expect(try Self.decode(data, concurrently: true).1 == Self.tips)
    }

    /// Stray bits in the last base64 symbol (§1): the record is refused, and so the bundle.
    @Test func nonCanonicalBase64IsRefused() {
        let data = Self.resigned { i, l in i == 1800 ? Self.strayBits(l) : l }
        for c in [false, true] {
            #expect(error(data, concurrently: c) == FormatError("bad_bundle", "a bundle record is not valid"))
        }
    }

    /// With several defects, the error is the first line's, whichever thread read which line.
    @Test func firstDefectWins() {
        let tips = Self.tips
        // Line i holds tips[i - 1]; giving it the first tip's id puts it out of order.
        let outOfOrder = { (i: Int, l: String) in l.replacingOccurrences(of: tips[i - 1].id.hex, with: tips[0].id.hex) }
        let cases: [(Data, FormatError)] = [
            (
                Self.resigned { i, l in i == 2 ? outOfOrder(i, l) : i == 2000 ? Self.strayBits(l) : l },
                FormatError("bad_bundle", "the bundle's records are not in ascending id order")
            ),
            (Self.resigned { i, l in i == 1900 ? Self.strayBits(l) : i == 2400 ? "{}" : l }, FormatError("bad_bundle", "a bundle record is not valid")),
            (
                Self.resigned { i, l in i == 3 ? Self.shortSeal(l) : i == 4 ? outOfOrder(i, l) : i == 2100 ? "x" : l },
                FormatError("bad_bundle", "a bundle record has a sealed size no server accepts")
            ),
        ]
        for (data, expected) in cases {
            #expect(error(data, concurrently: false) == expected)
            #expect(error(data, concurrently: true) == expected)
        }
    }

    /// A record line with the last data symbol of its sealed base64 changed to carry a stray bit.
    static func strayBits(_ line: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var u = Array(line.utf8)
        var i = u.count - 3  // before `"}`
        while u[i] == 0x3d { i -= 1 }
        u[i] = alphabet[alphabet.firstIndex(of: u[i])! ^ 1]
        return String(decoding: u, as: UTF8.self)
    }

    /// A record line whose sealed box is one 1024-byte class short: valid base64, invalid size.
    static func shortSeal(_ line: String) -> String {
        let r = line.range(of: #""sealed":""#)!
        return String(line[..<r.upperBound]) + Data(repeating: 1, count: 1000).base64EncodedString() + #""}"#
    }
}
