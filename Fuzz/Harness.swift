// libFuzzer harness for TipCore's parsers of outside input (Tests/Fuzz/README.md).
//
// One binary, many targets: FUZZ_TARGET picks the parser. Each target feeds the raw input to
// the parser and, when the parser accepts it, checks that encoding the result and decoding it
// again gives the same value (a parser that accepts what its own encoder cannot reproduce is a
// bug too). A thrown FormatError is the expected outcome for bad input; only a trap, a
// sanitizer report, a timeout or an out-of-memory is a finding.
//
// Built by Fuzz/fuzz.sh against TipCore compiled as its own module (with testing enabled):
// every target but `plain` uses only public API, as the server and desk do. `plain` reaches the
// two internal fast readers (issue 9) to check them against the strict one.

import Foundation

@testable import TipCore

/// The parser under test, from FUZZ_TARGET; read once.
let fuzzTarget: String = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""

/// Every target this binary knows; fuzz.sh asks for the list with FUZZ_TARGET=list.
let fuzzTargets = ["submission", "pow", "form", "keyring", "signed", "bundle", "ack", "tipdoc", "forward", "plain", "language"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: count > 0 ? start : nil, count: count)
    switch fuzzTarget {
    case "submission": fuzzSubmission(Data(bytes))
    case "pow": fuzzProofOfWork(Data(bytes))
    case "form": fuzzForm(bytes)
    case "keyring": fuzzKeyring(Data(bytes))
    case "signed": fuzzSigned(Data(bytes))
    case "bundle": fuzzBundle(Data(bytes))
    case "ack": fuzzAck(Data(bytes))
    case "tipdoc": fuzzTipDocument(Data(bytes))
    case "forward": fuzzForward(Data(bytes))
    case "plain": fuzzPlainReaders(Data(bytes))
    case "language": fuzzAcceptLanguage(bytes)
    default:
        fputs("FUZZ_TARGET must be one of: \(fuzzTargets.joined(separator: " "))\n", stderr)
        exit(2)
    }
    return 0
}

/// A failed invariant: report what broke and trap, so libFuzzer saves the input.
func check(_ ok: @autoclosure () -> Bool, _ what: String) {
    if !ok() {
        fputs("fuzz invariant failed [\(fuzzTarget)]: \(what)\n", stderr)
        fatalError(what)
    }
}

// MARK: - submission envelope (Submission.validate) and proof of work

/// Spreads the three acceptance answers over key ids, so the retired/unknown branches run too.
func acceptance(_ id: KeyID) -> KeyAcceptance {
    switch id.hex.utf8.last! {
    case UInt8(ascii: "e"): .retired
    case UInt8(ascii: "f"): .unknown
    default: .accepted
    }
}

func fuzzSubmission(_ data: Data) {
    for maxPadded in [PaddedSize.defaultMaximum, PaddedSize.minimum] {
        guard let s = try? Submission.validate(data, maxPadded: maxPadded, acceptance: acceptance) else { continue }
        let again = try? Submission.validate(s.encoded(), maxPadded: maxPadded, acceptance: acceptance)
        check(again == s, "Submission.encoded() does not validate back to the same submission")
    }
}

/// A valid sealed member (1024-byte padded class), so generated envelopes reach the pow checks.
let validSealedB64 = Data(repeating: 0x5a, count: PaddedSize.minimum + PaddedSize.sealOverhead).base64EncodedString()

/// `ProofOfWork.Challenge` from raw bytes, and the "pow" member of an envelope built around
/// the input: the first byte splits the rest into challenge and nonce.
func fuzzProofOfWork(_ data: Data) {
    let raw = Array(data)
    if let c = ProofOfWork.Challenge(raw) {
        check(c.random.count == 16 && c.signed.count == 25 && c.mac.count == 24, "challenge slices")
        check((0...255).contains(c.difficulty), "difficulty out of range")
        let u = ProofOfWork.Challenge.unsigned(random: Array(c.random), expires: c.expires, difficulty: c.difficulty)
        check(u == Array(c.signed), "Challenge.unsigned does not rebuild the signed part")
    }
    _ = ProofOfWork.leadingZeroBits(raw)
    guard let first = raw.first else { return }
    let rest = Array(raw.dropFirst())
    let cut = min(Int(first), rest.count)
    let challenge = Data(rest[..<cut]).base64EncodedString()
    let nonce = Data(rest[cut...]).base64EncodedString()
    let envelope = "{\"v\":1,\"key_id\":\"0123456789abcdef\",\"sealed\":\"\(validSealedB64)\",\"pow\":{\"challenge\":\"\(challenge)\",\"nonce\":\"\(nonce)\"}}"
    if let s = try? Submission.validate(Data(envelope.utf8), acceptance: { _ in .accepted }) {
        check(s.pow != nil, "a pow member was dropped")
        check(s.pow!.challenge.bytes.count == ProofOfWork.challengeLength, "challenge length")
        check((1...ProofOfWork.maxNonceLength).contains(s.pow!.nonce.count), "nonce length")
        check((try? Submission.validate(s.encoded(), acceptance: { _ in .accepted })) == s, "pow round trip")
    }
    // The raw input as an envelope too, so mutations of a pow-bearing seed reach every branch.
    _ = try? Submission.validate(data, acceptance: { _ in .accepted })
}

// MARK: - the no-JS form body (FormDocument.build)

let formLanguages: Set<String> = ["en", "ru", "uz-Latn"]

/// Allocates scratch and output exactly as large as `build` documents (so AddressSanitizer
/// catches any write past them), zeroes both before freeing, as the server's locked buffers do.
func fuzzForm(_ form: UnsafeRawBufferPointer) {
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: form.count, alignment: 1)
    let outCount = FormDocument.outputCapacity(forFormLength: form.count)
    let output = UnsafeMutableRawBufferPointer.allocate(byteCount: outCount, alignment: 1)
    scratch.initializeMemory(as: UInt8.self, repeating: 0)
    output.initializeMemory(as: UInt8.self, repeating: 0)
    defer {
        scratch.initializeMemory(as: UInt8.self, repeating: 0)
        output.initializeMemory(as: UInt8.self, repeating: 0)
        scratch.deallocate()
        output.deallocate()
    }
    guard let built = try? FormDocument.build(form: form, scratch: scratch, output: output, languages: formLanguages) else {
        return
    }
    check(built.length >= 0 && built.length <= outCount, "built.length outside the output buffer")
    // What the no-JS path builds must be a valid v1 tip document, as the JS path's is.
    let doc = Data(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(output)[0..<built.length]))
    let parsed: TipDocument
    do { parsed = try TipDocument.decode(doc) } catch {
        check(false, "FormDocument.build wrote a document TipDocument.decode refuses: \(error)")
        return
    }
    check(parsed.lang == built.lang, "lang differs between Built and the document")
    if let lang = built.lang { check(formLanguages.contains(lang), "lang not in the accepted set") }
}

// MARK: - keyring (KeyringPayload.decode, SignedDocument.decode)

func fuzzKeyring(_ data: Data) {
    // The raw payload, and the payload inside a signed wrapper (how keyring files arrive).
    var payloads = [data]
    if let signed = try? SignedDocument.decode(data) { payloads.append(signed.payload) }
    for p in payloads {
        guard let k = try? KeyringPayload.decode(p) else { continue }
        check((1...KeyringPayload.maxKeys).contains(k.intakeKeys.count), "intake key count")
        check((try? KeyringPayload.decode(k.encoded())) == k, "KeyringPayload round trip")
        // The date logic a server runs on a parsed keyring.
        for day in [k.issued, k.expires] + k.intakeKeys.map(\.notBefore) {
            _ = k.isExpired(on: day)
            _ = k.current(on: day)
            for e in k.intakeKeys { _ = k.status(of: e.keyID, on: day) }
        }
    }
}

func fuzzSigned(_ data: Data) {
    for kind in ["keyring", "ack"] {
        guard let d = try? SignedDocument.decode(data, kind: kind) else { continue }
        check(d.rootPublicKey.count == 32 && d.signature.count == 64, "SignedDocument key/signature sizes")
        check((try? SignedDocument.decode(d.encoded(), kind: kind)) == d, "SignedDocument round trip")
        _ = SignedDocument.signedMessage(d.payload)
        if kind == "keyring" { _ = try? KeyringPayload.decode(d.payload) } else { _ = try? AckPayload.decode(d.payload) }
    }
}

// MARK: - export bundle (ExportBundle.decode)

/// Stand-in for BLAKE2b-256 (TipCore has no hash; callers pass one in): FNV-1a, four lanes,
/// 32 bytes. Used for both encoding and decoding, so only the format is under test.
func fuzzDigest(_ d: Data) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(32)
    for lane in 0..<4 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 &+ UInt64(lane)
        for b in d { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: h >> UInt64(s))) }
    }
    return out
}

func fuzzBundle(_ data: Data) {
    // 1. The input as it is: mostly exercises the trailer and checksum checks.
    checkBundle(data)
    // 2. The input with its last line replaced by a trailer that matches: the header and
    //    record lines get parsed. Everything up to the last newline is the covered part (a
    //    final newline is added if missing); the trailer's count is the record line count.
    var covered = data
    if covered.last != 0x0a { covered.append(0x0a) }
    var lines = covered.split(separator: 0x0a, omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    // Drop an input trailer line (seeds carry one) so the new one replaces it.
    if lines.count >= 2, let last = lines.last, last.starts(with: Data("{\"blake2b\"".utf8)) {
        covered = Data(covered.dropLast(last.count + 1))
        lines.removeLast()
    }
    let sum = Hex.encode(fuzzDigest(covered))
    let count = max(lines.count - 1, 0)
    covered.append(Data("{\"blake2b\":\"\(sum)\",\"count\":\(count),\"end\":true}\n".utf8))
    checkBundle(covered)
}

func checkBundle(_ data: Data) {
    guard let (h, tips) = try? ExportBundle.decode(data, digest: fuzzDigest) else { return }
    check(h.count == tips.count, "header count differs from records")
    check(zip(tips, tips.dropFirst()).allSatisfy { $0.id < $1.id }, "records not ascending")
    let again = ExportBundle.encode(instance: h.instance, created: h.created, tips: tips, digest: fuzzDigest)
    guard let (h2, tips2) = try? ExportBundle.decode(again, digest: fuzzDigest) else {
        check(false, "ExportBundle.encode output does not decode")
        return
    }
    check(h2 == h && tips2 == tips, "ExportBundle round trip")
}

// MARK: - acknowledgement (AckPayload.decode) and tip document (TipDocument.decode)

func fuzzAck(_ data: Data) {
    var payloads = [data]
    if let signed = try? SignedDocument.decode(data, kind: "ack") { payloads.append(signed.payload) }
    for p in payloads {
        guard let a = try? AckPayload.decode(p) else { continue }
        check(Set(a.tips.map(\.id)).count == a.tips.count, "duplicate ack ids accepted")
        check((try? AckPayload.decode(a.encoded())) == a, "AckPayload round trip")
    }
}

func fuzzTipDocument(_ data: Data) {
    guard let d = try? TipDocument.decode(data) else { return }
    check((try? d.validate()) != nil, "a decoded document does not validate")
    check((try? TipDocument.decode(d.encoded())) == d, "TipDocument round trip")
    _ = PaddedSize.forDocument(length: d.encoded().count)
}

// MARK: - forwards (SECURITY.md §11): what a sealed box holds, the forward document, the parcel

/// The input as a sealed box's plaintext (a tip or a signed forward), as a forward document and
/// as an outbox parcel; each accepted value must encode and decode back to itself.
func fuzzForward(_ data: Data) {
    if let p = try? SealedPlaintext.decode(data) {
        switch p {
        case .tip(let d): check((try? TipDocument.decode(d.encoded())) == d, "tip round trip via SealedPlaintext")
        case .forward(let f):
            check(f.recipient.count == 32 && f.forwardID.count == SignedForward.forwardIDBytes, "forward header sizes")
            check(f.signer.count == 32 && f.signature.count == 64, "forward key and signature sizes")
            check((try? SealedPlaintext.decode(f.encoded())) == .forward(f), "SignedForward round trip")
            _ = f.signedMessage
        }
    }
    if let d = try? ForwardDocument.decode(data) {
        check((try? d.validate()) != nil, "a decoded forward document does not validate")
        check((try? ForwardDocument.decode(d.encoded())) == d, "ForwardDocument round trip")
        check((try? d.tip) != nil, "a forward document is not a valid tip document")
    }
    if let p = try? ForwardParcel.decode(data) {
        check(ForwardParcel.looksLikeParcel(p.encoded()), "an encoded parcel is not recognised as one")
        check((try? ForwardParcel.decode(p.encoded())) == p, "ForwardParcel round trip")
    }
}

// MARK: - the fast readers (issue 9) against StrictJSON

/// The envelope's and the tip document's plain readers skip `JSONDecoder` for the forms our
/// sealers write, and MUST read nothing differently from `StrictJSON` (SECURITY.md §1): a
/// reader that took what the strict one refuses, or read it as another value, would let the
/// server accept, or tipdesk show, a document other readers see otherwise. Whatever a plain
/// reader decides (a value, or one of `TipDocument`'s own limits), the strict reader must
/// decide the same; nil means "not plain", and the strict reader alone then decides.
func fuzzPlainReaders(_ data: Data) {
    if let w = Submission.Wire.plain(data) {
        check((try? StrictJSON.decode(Submission.Wire.self, from: data)) == w, "the envelope's plain reader disagrees with StrictJSON")
    }
    let plain: Result<TipDocument?, FormatError>
    do { plain = .success(try data.withUnsafeBytes(TipDocument.plain)) } catch let e as FormatError {
        plain = .failure(e)
    } catch {
        check(false, "TipDocument.plain threw \(type(of: error)), not a FormatError")
        return
    }
    let strict: Result<TipDocument, FormatError>
    do { strict = .success(try TipDocument.strict(data)) } catch let e as FormatError {
        strict = .failure(e)
    } catch {
        check(false, "TipDocument.strict threw \(type(of: error)), not a FormatError")
        return
    }
    switch (plain, strict) {
    case (.success(nil), _): break
    case (.success(let p?), .success(let s)):
        // Byte for byte too: Swift's String equality would take an NFD body for an NFC one.
        check(p == s && p.encoded() == s.encoded(), "the document's plain reader read another document than StrictJSON")
    case (.failure(let p), .failure(let s)): check(p.code == s.code, "the document's plain reader refused with \(p.code), StrictJSON with \(s.code)")
    default: check(false, "the document's plain reader and StrictJSON disagree: \(plain) against \(strict)")
    }
}

// MARK: - Accept-Language (AcceptLanguage.preferred)

/// Any header value a client can send (the bytes read as UTF-8, as the server's HTTP layer
/// gives them): the answer is one of the languages offered, or nil.
func fuzzAcceptLanguage(_ bytes: UnsafeRawBufferPointer) {
    let offered: Set<String> = ["en", "ru", "uk", "uz", "ky", "tg"]
    let header = String(decoding: bytes, as: UTF8.self)
    if let lang = AcceptLanguage.preferred(header, among: offered) { check(offered.contains(lang), "chose \(lang), not offered") }
}
