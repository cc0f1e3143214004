import Foundation
import Testing

@testable import TipCore

/// Key status from the dates alone (SECURITY.md §2.5).
@Suite struct KeyStatusTests {
    static func entry(_ n: UInt8, _ from: String, _ to: String? = nil) -> IntakeKeyEntry {
        IntakeKeyEntry(
            keyID: KeyID(String(repeating: String(format: "%02x", n), count: 8))!, publicKey: [UInt8](repeating: n, count: 32),
            notBefore: Day(from)!, notAfter: to.map { Day($0)! })
    }

    static let old = entry(1, "2026-10-01", "2026-11-20")
    static let new = entry(2, "2026-11-06")
    static let future = entry(3, "2026-12-24")
    static let ring = KeyringPayload(
        serial: 4, issued: Day("2026-11-06")!, expires: Day("2027-02-04")!, rootKeyID: KeyID("0123456789abcdef")!,
        intakeKeys: [old, new, future], scripts: [:])

    @Test(arguments: [
        ("2026-10-15", [KeyStatus.active, .pending, .pending], 1),
        ("2026-11-06", [.retiring, .active, .pending], 2),
        ("2026-11-20", [.retiring, .active, .pending], 2),
        ("2026-11-21", [.retired, .active, .pending], 2),
        ("2026-12-24", [.retired, .retiring, .active], 3),
    ])
    func statusOnDay(day: String, expected: [KeyStatus], current: UInt8) {
        let d = Day(day)!
        #expect([Self.old, Self.new, Self.future].map { Self.ring.status(of: $0.keyID, on: d) } == expected)
        #expect(Self.ring.current(on: d)?.publicKey.first == current)
    }

    @Test func unlistedKeyHasNoStatus() {
        #expect(Self.ring.status(of: KeyID("ffffffffffffffff")!, on: Day("2026-11-10")!) == nil)
    }

    @Test func expiry() {
        #expect(!Self.ring.isExpired(on: Day("2027-02-04")!))
        #expect(Self.ring.isExpired(on: Day("2027-02-05")!))
    }

    @Test func dayArithmetic() {
        #expect(Day("2026-12-31")!.adding(days: 1).text == "2027-01-01")
        #expect(Day("2024-02-28")!.adding(days: 1).text == "2024-02-29")
        #expect(Day("2026-11-29")!.days(until: Day("2027-02-27")!) == 90)
    }

    @Test func payloadRoundTrip() throws {
        #expect(try KeyringPayload.decode(Self.ring.encoded()) == Self.ring)
    }
}
