import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TipCore
import TipCrypto
import TipServer
import TipStore
import TipTestSupport

/// Envelope vectors (Tests/Vectors/envelope), each run three ways: through the codec, through
/// the live server, and (for the good ones) through the opener (SECURITY.md §3.4–3.5).
@Suite struct EnvelopeVectorTests {
    static let vectors = Vector.load("envelope")
    static let testKeyID = KeyID("ba5d987fcd4768d2")!

    @Test func vectorsExist() { #expect(Self.vectors.count >= 20) }

    @Test(arguments: vectors)
    func codec(_ v: Vector) throws {
        do {
            let s = try Submission.validate(v.payload, isKnownKey: { $0 == Self.testKeyID })
            #expect(v.expect == "success", "\(v.name) was accepted")
            // The good vectors were sealed by PyNaCl; libsodium must open them.
            _ = try TipOpener(keys: [TestKey.pair()]).open(keyID: s.keyID, sealed: s.sealed)
        } catch let e as FormatError {
            #expect(e.code == v.expect, "\(v.name)")
        }
    }

    @Test func liveServer() async throws {
        let h = try Harness()
        try await h.run { client in
            for v in Self.vectors {
                let r = try await client.postTip(v.payload)
                #expect(r.status.code == Int(v.headers["status"]!), "\(v.name): \(r.text)")
                if v.expect == "success" {
                    #expect(r.text == #"{"received":true}"#)
                } else {
                    #expect(r.errorCode == v.expect, "\(v.name): \(r.text)")
                }
            }
        }
        // Exactly the good vectors were stored, byte for byte, and they open.
        let stored = try h.database.allTips()
        let good = Self.vectors.filter { $0.expect == "success" }
        #expect(stored.count == good.count)
        let opener = TipOpener(keys: [TestKey.pair()])
        for t in stored { _ = try opener.open(keyID: t.keyID, sealed: t.sealed) }
        #expect(Set(stored.map(\.day)) == [Day.today])
    }
}

@Suite struct BadInputTests {
    func goodEnvelope() throws -> Data {
        try TipSealer.seal(TipDocument(body: "still serving"), to: TestKey.pair().document).encoded()
    }

    // Each bad input gets its stable code, nothing is stored, and the server keeps serving.
    @Test func eachBadInputHasItsCode() async throws {
        let h = try Harness()
        let good = try goodEnvelope()
        let whole = try TipSealer.seal(TipDocument(body: "x"), to: TestKey.pair().document)
        let truncated = Submission(keyID: whole.keyID, sealed: Array(whole.sealed.dropLast(1)))
        try await h.run { client in
            let cases: [(String, Data, String?, Int, String)] = [
                ("truncated sealed bytes", truncated.encoded(), "application/json", 422, "invalid_sealed_length"),
                ("empty body", Data(), "application/json", 400, "empty_request"),
                ("wrong content type", good, "text/plain", 415, "unsupported_media_type"),
                ("form content type", good, "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
                ("no content type", good, nil, 415, "unsupported_media_type"),
                ("oversized body", Data(repeating: 0x20, count: 1_500_000), "application/json", 413, "body_too_large"),
                ("wrong JSON type", Data(#"{"v":1,"key_id":"ba5d987fcd4768d2","sealed":42}"#.utf8), "application/json", 400, "invalid_json"),
                ("JSON null", Data("null".utf8), "application/json", 400, "invalid_json"),
            ]
            for (what, body, type, status, code) in cases {
                let r = try await client.postTip(body, contentType: type)
                #expect(r.status.code == status, "\(what): \(r.text)")
                #expect(r.errorCode == code, "\(what): \(r.text)")
            }
            #expect(try h.database.counts().total == 0)
            let r = try await client.postTip(good)
            #expect(r.status == .created)
            #expect(try h.database.counts().total == 1)
        }
    }

    @Test func charsetParameterIsAccepted() async throws {
        let h = try Harness()
        let good = try goodEnvelope()
        try await h.run { client in
            let status = try await client.postTip(good, contentType: "application/json; charset=utf-8").status
            #expect(status == .created)
        }
    }

    // A server configured for at most 1024 padded bytes refuses a 2048 envelope: the body
    // cap (sized for the largest valid envelope) stops it before parsing, and the codec would
    // refuse it too.
    @Test func configuredMaximumIsEnforced() async throws {
        let h = try Harness(maxPaddedBytes: 1024)
        let big = try TipSealer.seal(TipDocument(body: String(repeating: "a", count: 1500)), to: TestKey.pair().document)
        #expect(big.sealed.count == 2048 + 48)
        #expect(throws: FormatError.self) { try Submission.validate(big.encoded(), maxPadded: 1024, isKnownKey: { _ in true }) }
        let small = try TipSealer.seal(TipDocument(body: "a"), to: TestKey.pair().document)
        let (bigStatus, bigCode, smallStatus) = try await h.run { client in
            let r = try await client.postTip(big.encoded())
            return (r.status.code, r.errorCode, try await client.postTip(small.encoded()).status.code)
        }
        #expect(bigStatus == 413)
        #expect(bigCode == "body_too_large")
        #expect(smallStatus == 201)
        #expect(try h.database.counts().total == 1)
    }

    @Test func unknownRoutesAndMethods() async throws {
        let h = try Harness()
        try await h.run { client in
            let r1 = try await client.execute(uri: "/nothing", method: .get)
            #expect(r1.status == .notFound)
            #expect(r1.errorCode == "not_found")
            let r2 = try await client.execute(uri: "/api/v1/tips", method: .get)
            #expect(r2.status.code >= 400 && r2.status.code < 500)
            #expect(r2.errorCode != nil)
        }
    }
}
