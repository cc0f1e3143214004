import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TipCore
import TipCrypto
import TipStore
import TipTestSupport

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
        let start = ContinuousClock.now
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
        // The bucket refills at 2 a second: on a loaded machine the 30 requests take longer,
        // and each second they take may let two more through.
        let elapsed = ContinuousClock.now - start
        let allowed = 20 + 2 * Int(elapsed.components.seconds) + 2
        #expect(codes.filter { $0 == 200 }.count <= allowed, "burst 20 plus the refills of \(elapsed)")
        #expect(codes.filter { $0 == 503 }.count >= 30 - allowed)
        if elapsed < .seconds(4) { #expect(codes.filter { $0 == 503 }.count >= 1, "the flood was limited at all") }
        #expect(sealedStatus == 201)
    }
}
