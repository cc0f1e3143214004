import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TipCore
import TipCrypto
import TipStore
import TipTestSupport
import Testing

@testable import TipServer

/// SECURITY.md §4.3: the no-JS path's own bucket and cap, keyed on nobody.
@Suite struct LimitsTests {
    @Test func bucketAndCap() async {
        let l = NoJSLimiter(ratePerSecond: 0.001, burst: 3, maxInFlight: 2)
        #expect(await l.enter())
        #expect(await l.enter())
        #expect(await !l.enter(), "two in flight: the cap")
        await l.leave()
        #expect(await l.enter(), "a slot and a token")
        await l.leave()
        await l.leave()
        #expect(await !l.enter(), "the bucket is empty")
    }

    // A flood on /submit is refused with the busy page while sealed tips still go through.
    @Test func formFloodLeavesTheSealedPathOpen() async throws {
        let h = try Harness()
        let sealed = try TipSealer.seal(TipDocument(body: "sealed, during a form flood"), to: TestKey.pair().document).encoded()
        let (codes, sealedStatus) = try await h.run { client in
            var codes = [Int]()
            var headers = HTTPFields()
            headers[.contentType] = "application/x-www-form-urlencoded"
            for i in 0..<30 {
                let r = try await client.execute(uri: "/submit", method: .post, headers: headers, body: ByteBuffer(string: "body=flood+\(i)&lang=en"))
                codes.append(Int(r.status.code))
            }
            return (codes, try await client.postTip(sealed).status.code)
        }
        #expect(codes.filter { $0 == 200 }.count <= 21, "burst 20 plus at most one refill")
        #expect(codes.filter { $0 == 503 }.count >= 9)
        #expect(sealedStatus == 201)
    }
}
