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

@testable import TipServer

/// Proof of work (SECURITY.md §4.6): each broken solution is refused with its own code.
@Suite struct ProofOfWorkTests {
    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var t = 1_800_000_000
        var now: Int { lock.withLock { t } }
        func advance(_ s: Int) { lock.withLock { t += s } }
    }

    func sealed(_ body: String) throws -> [UInt8] { try TipSealer.seal(TipDocument(body: body), to: TestKey.pair().document).sealed }

    func code(_ f: () async throws -> Void) async -> String? {
        do {
            try await f()
            return nil
        } catch let e as FormatError {
            return e.code
        } catch {
            return "other"
        }
    }

    @Test func eachBrokenSolutionHasItsCode() async throws {
        let clock = Clock()
        let guardian = ProofOfWorkGuard(settings: .init(base: 8, cap: 12, perBit: 1000), now: { clock.now })
        let a = try sealed("payload a")
        let b = try sealed("payload b")
        let issued = await guardian.issue()
        let c = ProofOfWork.Challenge(issued.challenge)!
        #expect(c.difficulty == 8)
        let good = try #require(ProofOfWorkSolver.solve(c, sealed: a))
        // Moved to another payload: the hash is bound to the sealed bytes. (One time in 256 the
        // nonce happens to meet the difficulty for b too; taken, it would spend the challenge
        // that the checks below need.)
        let movedOK = ProofOfWork.leadingZeroBits(SHA512.hash(ProofOfWork.preimage(challenge: c.bytes, sealedSHA512: SHA512.hash(b), nonce: good.nonce))) >= 8
        if !movedOK { #expect(await code { try await guardian.check(good, sealed: b) } == "pow_insufficient") }
        // A wrong nonce.
        var wrongNonce = good.nonce
        wrongNonce[7] ^= 1
        let wrong = ProofOfWork.Solution(challenge: c, nonce: wrongNonce)
        let wrongOK = ProofOfWork.leadingZeroBits(SHA512.hash(ProofOfWork.preimage(challenge: c.bytes, sealedSHA512: SHA512.hash(a), nonce: wrongNonce))) >= 8
        if !wrongOK { #expect(await code { try await guardian.check(wrong, sealed: a) } == "pow_insufficient") }
        // A forged MAC: the difficulty byte lowered to 0.
        var forgedBytes = c.bytes
        forgedBytes[24] = 0
        let forged = ProofOfWork.Solution(challenge: ProofOfWork.Challenge(forgedBytes)!, nonce: [0])
        #expect(await code { try await guardian.check(forged, sealed: a) } == "pow_invalid")
        // Missing, while required.
        #expect(await code { try await guardian.check(nil, sealed: a) } == "pow_required")
        // The good one, once; then replayed.
        #expect(await code { try await guardian.check(good, sealed: a) } == nil)
        #expect(await code { try await guardian.check(good, sealed: a) } == "pow_replayed")
        // Expired.
        let late = ProofOfWork.Challenge(await guardian.issue().challenge)!
        let lateSolution = try #require(ProofOfWorkSolver.solve(late, sealed: a))
        clock.advance(301)
        #expect(await code { try await guardian.check(lateSolution, sealed: a) } == "pow_expired")
    }

    @Test func difficultyRisesWithLoadUpToTheCap() async {
        let clock = Clock()
        let guardian = ProofOfWorkGuard(settings: .init(base: 4, cap: 9, perBit: 10), now: { clock.now })
        #expect(await guardian.difficulty() == 4)
        for _ in 0..<40 { await guardian.accepted() }
        let loaded = await guardian.difficulty()
        #expect(loaded > 4 && loaded <= 9)
        for _ in 0..<100_000 { await guardian.accepted() }
        #expect(await guardian.difficulty() == 9)
        clock.advance(180)
        #expect(await guardian.difficulty() == 4)
        let off = ProofOfWorkGuard(settings: .init(base: 0, cap: 20, perBit: 1), now: { clock.now })
        #expect(await off.difficulty() == 0)
    }

    // Live: a server that asks for work refuses a tip without it, takes a solved one, and the
    // challenge endpoint is MAC'd (a challenge from another server is refused).
    @Test func liveServerRequiresWork() async throws {
        var h = try Harness()
        h.config.powDifficulty = 6
        let s = try sealed("with work")
        let key = TestKey.pair().keyID
        let results = try await h.run { client in
            var out = [String]()
            let plain = try await client.postTip(Submission(keyID: key, sealed: s).encoded())
            out.append(plain.errorCode ?? "\(plain.status.code)")
            let r = try await client.execute(uri: "/api/v1/challenge", method: .get)
            let o = try JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as! [String: Any]
            let c = ProofOfWork.Challenge(Array(Data(base64Encoded: o["challenge"] as! String)!))!
            let solution = ProofOfWorkSolver.solve(c, sealed: s)!
            let solved = try await client.postTip(Submission(keyID: key, sealed: s, pow: solution).encoded())
            out.append("\(solved.status.code)")
            let again = try await client.postTip(Submission(keyID: key, sealed: s, pow: solution).encoded())
            out.append(again.errorCode ?? "\(again.status.code)")
            return out
        }
        #expect(results == ["pow_required", "201", "pow_replayed"])
        #expect(try h.database.counts().total == 1)
    }
}
