import Foundation

/// A calendar day in UTC, `YYYY-MM-DD`. The only arrival time tipgate records (SECURITY.md §4.2):
/// an exact time could be matched against network logs to find a witness.
public struct Day: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let text: String

    public init?(_ text: String) {
        let u = Array(text.utf8)
        guard u.count == 10, u[4] == 0x2d, u[7] == 0x2d else { return nil }
        for (i, c) in u.enumerated() where i != 4 && i != 7 {
            guard (0x30...0x39).contains(c) else { return nil }
        }
        let month = Int(text.dropFirst(5).prefix(2))!
        let day = Int(text.dropFirst(8).prefix(2))!
        let year = Int(text.prefix(4))!
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), (1...days[month - 1]).contains(day) else { return nil }
        self.text = text
    }

    /// The UTC day of `date`. Counted from the Unix epoch with the proleptic Gregorian
    /// calendar's arithmetic (H. Hinnant's `civil_from_days`), not through `Calendar` and
    /// `String(format:)`, which were 6% of a submission's request handling (issue 9); tested
    /// against `Calendar` day by day over three centuries. Years outside 1583...9999 still go
    /// through `Calendar`, which counts days before 1582-10-15 in the Julian calendar.
    public init(_ date: Date) {
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        guard (1583...9999).contains(year) else {
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = TimeZone(identifier: "UTC")!
            let c = cal.dateComponents([.year, .month, .day], from: date)
            self.text = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
            return
        }
        var u = [UInt8](repeating: 0x2d, count: 10)
        for (at, value, width) in [(0, year, 4), (5, month, 2), (8, day, 2)] {
            var v = value
            for i in stride(from: width - 1, through: 0, by: -1) {
                u[at + i] = UInt8(0x30 + v % 10)
                v /= 10
            }
        }
        self.text = String(decoding: u, as: UTF8.self)
    }

    public static var today: Day { Day(Date()) }

    /// Midnight UTC of this day.
    public var date: Date {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let p = text.split(separator: "-").map { Int($0)! }
        return cal.date(from: DateComponents(year: p[0], month: p[1], day: p[2]))!
    }

    public func adding(days: Int) -> Day { Day(date.addingTimeInterval(Double(days) * 86_400)) }

    /// Whole days from `self` to `other` (negative if `other` is earlier).
    public func days(until other: Day) -> Int { Int((other.date.timeIntervalSince(date) / 86_400).rounded()) }

    public var description: String { text }

    public static func < (lhs: Day, rhs: Day) -> Bool { lhs.text < rhs.text }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let d = Day(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad day"))
        }
        self = d
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
}
