import Foundation
import TipCore
import TipCrypto

/// The server's side of proof of work (SECURITY.md §4.6): issues MAC'd challenges, checks
/// solutions, spends each challenge once, and raises the difficulty with load. It keys on
/// nothing about a client: the load is the count of accepted tips, for everyone.
actor ProofOfWorkGuard {
    struct Settings: Sendable {
        /// Leading zero bits asked for at no load; 0 turns proof of work off.
        var base: Int
        /// The most ever asked for, so a low-end phone still finishes (§4.6 states the measure).
        var cap: Int
        /// Accepted tips per minute that add one bit.
        var perBit: Int
        var lifetime = 300
        var capacity = 200_000
    }

    let settings: Settings
    private var secrets: (current: [UInt8], previous: [UInt8], rotated: Int)
    private var spent: [ArraySlice<UInt8>: Int] = [:]
    private var minute = 0
    private var thisMinute = 0
    private var lastMinute = 0
    let now: @Sendable () -> Int

    init(settings: Settings, now: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) {
        self.settings = settings
        self.now = now
        secrets = (Random.bytes(32), Random.bytes(32), now())
    }

    var required: Bool { settings.base > 0 }

    /// The difficulty now: the base, one more bit per `perBit` tips in the last minute (in a
    /// power-of-two ramp), never above the cap.
    func difficulty() -> Int {
        guard settings.base > 0 else { return 0 }
        roll()
        let load = max(thisMinute, lastMinute) / max(1, settings.perBit)
        let bonus = load > 0 ? Int(log2(Double(load))) + 1 : 0
        return min(settings.cap, settings.base + bonus)
    }

    func issue() -> (challenge: [UInt8], difficulty: Int, expires: Int) {
        rotate()
        let d = difficulty()
        let expires = now() + settings.lifetime
        let unsigned = ProofOfWork.Challenge.unsigned(random: Random.bytes(16), expires: expires, difficulty: d)
        return (unsigned + BLAKE2b.hash(unsigned, length: 24, key: secrets.current), d, expires)
    }

    /// Checks a submission's solution; on success the challenge is spent.
    func check(_ solution: ProofOfWork.Solution?, sealed: [UInt8]) throws {
        guard let s = solution else {
            if required { throw FormatError("pow_required", "fetch /api/v1/challenge and solve it first") }
            return
        }
        rotate()
        let c = s.challenge
        let genuine = [secrets.current, secrets.previous].contains { BLAKE2b.hash(Array(c.signed), length: 24, key: $0) == Array(c.mac) }
        guard genuine else { throw FormatError("pow_invalid", "this challenge was not issued by this server") }
        let t = now()
        guard c.expires >= t, c.expires <= t + settings.lifetime else { throw FormatError("pow_expired", "the challenge expired; fetch a new one") }
        let hash = SHA512.hash(ProofOfWork.preimage(challenge: c.bytes, sealedSHA512: SHA512.hash(sealed), nonce: s.nonce))
        guard ProofOfWork.leadingZeroBits(hash) >= c.difficulty else {
            throw FormatError("pow_insufficient", "the solution does not meet the challenge for this payload")
        }
        if spent.count >= settings.capacity { spent = spent.filter { $0.value >= t } }
        guard spent.count < settings.capacity else { throw FormatError("pow_busy", "too many challenges in flight; try again shortly") }
        guard spent.updateValue(c.expires, forKey: c.random) == nil else {
            throw FormatError("pow_replayed", "this challenge was already used; fetch a new one")
        }
    }

    func accepted() {
        roll()
        thisMinute += 1
    }

    private func roll() {
        let m = now() / 60
        if m != minute {
            lastMinute = m == minute + 1 ? thisMinute : 0
            thisMinute = 0
            minute = m
        }
    }

    /// The MAC key lives in memory only and rotates; the previous one is kept for a lifetime,
    /// so challenges issued just before a rotation still verify.
    private func rotate() {
        let t = now()
        if t - secrets.rotated >= 2 * settings.lifetime {
            secrets = (Random.bytes(32), secrets.current, t)
        }
    }
}
