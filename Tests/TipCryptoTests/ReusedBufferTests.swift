import Foundation
import Testing
import TipCore
import TipTestSupport

@testable import TipCrypto

/// The reused locked buffers of search and import (issue 9): the same plaintext as a fresh
/// buffer, grown when a record is larger, and wiped on request.
@Suite struct ReusedBufferTests {
    @Test func recordsOpenIntoAGrowingBuffer() throws {
        let key = VaultDataKey.generate()
        let id = Random.tipID()
        let big = [UInt8](repeating: 0x41, count: 5000)
        let small = [UInt8]("short".utf8)
        var buffer = SecureBytes(count: 16)
        for plain in [small, big, small] {
            let box = plain.withUnsafeBytes { key.sealRecord($0, id: id) }
            let n = try key.openRecord(box, id: id, into: &buffer)
            #expect(n == plain.count)
            #expect(buffer.withUnsafeBytes { Array($0.prefix(n)) } == plain)
            #expect(try key.openRecord(box, id: id).withUnsafeBytes { Array($0) } == plain)
            buffer.wipe(prefix: n)
            #expect(buffer.withUnsafeBytes { $0.prefix(n).allSatisfy { $0 == 0 } })
        }
        #expect(buffer.count >= 5000)
        // A box moved to another id still fails, into a buffer too.
        let box = small.withUnsafeBytes { key.sealRecord($0, id: id) }
        #expect(throws: CryptoError.self) { try key.openRecord(box, id: Random.tipID(), into: &buffer) }
    }

    @Test func sealedTipsOpenIntoAReusedBufferAndAreWiped() throws {
        let pair = TestKey.pair()
        let opener = TipOpener(keys: [pair])
        var scratch = SecureBytes(count: 8)
        for body in ["one", String(repeating: "два ", count: 2000)] {
            let s = try TipSealer.seal(TipDocument(body: body), to: pair.document)
            guard case (.tip(let d), _) = try opener.openPlaintext(keyID: s.keyID, sealed: s.sealed, scratch: &scratch) else {
                Issue.record("not a tip")
                return
            }
            #expect(d.body == body)
            #expect(scratch.withUnsafeBytes { $0.allSatisfy { $0 == 0 } }, "the padded plaintext was left in the buffer")
        }
    }
}
