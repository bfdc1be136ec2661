/// How a summary splits time: one total, or calendar buckets.
///
/// Buckets are hours, days, weeks starting on Monday, or calendar months, in
/// UTC unless `SummaryOptions.utcOffset` shifts their boundaries to another
/// fixed offset (local days: `+01:00`). A struct rather than an enum, so that
/// sizes can be added.
public struct BucketSize: Hashable, Sendable, CustomStringConvertible {
    enum Kind: Hashable, Sendable { case total, hour, day, week, month }
    let kind: Kind

    /// One bucket for the whole range.
    public static let total = BucketSize(kind: .total)
    /// Hours.
    public static let hour = BucketSize(kind: .hour)
    /// Days.
    public static let day = BucketSize(kind: .day)
    /// Weeks from Monday 00:00.
    public static let week = BucketSize(kind: .week)
    /// Calendar months.
    public static let month = BucketSize(kind: .month)

    /// Every size, in the order `--by` lists them.
    public static let all: [BucketSize] = [.total, .hour, .day, .week, .month]

    /// The size named `name` (`total`, `hour`, `day`, `week`, `month`).
    public init?(name: String) {
        guard let size = Self.all.first(where: { $0.description == name }) else { return nil }
        self = size
    }

    private init(kind: Kind) { self.kind = kind }

    /// Its name, as `--by` takes it.
    public var description: String {
        switch kind {
        case .total: "total"
        case .hour: "hour"
        case .day: "day"
        case .week: "week"
        case .month: "month"
        }
    }

    static let millisecondsPerDay: Int64 = 86_400_000

    /// The bucket holding `time` (Unix ms): its start and end in Unix ms,
    /// boundaries at local midnight (hour, …) for `offset` milliseconds east
    /// of UTC. Nil for `.total`. Clamped at the ends of the Int64 range.
    func bucket(of time: Int64, offset: Int64) -> (start: Int64, end: Int64)? {
        let local = time.addingClamped(offset)
        let localStart: Int64, localEnd: Int64
        switch kind {
        case .total:
            return nil
        case .hour:
            localStart = local.flooredMultiple(of: 3_600_000)
            localEnd = localStart.addingClamped(3_600_000)
        case .day:
            localStart = local.flooredMultiple(of: Self.millisecondsPerDay)
            localEnd = localStart.addingClamped(Self.millisecondsPerDay)
        case .week:
            // Day 0 (1970-01-01) was a Thursday: Mondays are days ≡ 4 (mod 7).
            let day = local.flooredDivision(by: Self.millisecondsPerDay)
            let monday = day - (day + 3).modulo(7)
            localStart = monday.multipliedClamped(Self.millisecondsPerDay)
            localEnd = localStart.addingClamped(7 * Self.millisecondsPerDay)
        case .month:
            let day = local.flooredDivision(by: Self.millisecondsPerDay)
            let date = CivilDate(day: day)
            let first = CivilDate.day(year: date.year, month: date.month, day: 1)
            let next = date.month == 12 ? CivilDate.day(year: date.year + 1, month: 1, day: 1)
                : CivilDate.day(year: date.year, month: date.month + 1, day: 1)
            localStart = first.multipliedClamped(Self.millisecondsPerDay)
            localEnd = next.multipliedClamped(Self.millisecondsPerDay)
        }
        return (localStart.addingClamped(-offset), localEnd.addingClamped(-offset))
    }
}

/// A proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
struct CivilDate: Hashable, Sendable {
    var year: Int64
    var month: Int64
    var day: Int64

    /// The date of day `day` since 1970-01-01.
    init(day: Int64) {
        let z = day + 719_468
        let era = z.flooredDivision(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        self.day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Days since 1970-01-01 of `year`-`month`-`day` (`days_from_civil`).
    static func day(year: Int64, month: Int64, day: Int64) -> Int64 {
        let year = month <= 2 ? year - 1 : year
        let era = year.flooredDivision(by: 400)
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

/// Times written for people: ISO-8601 with an offset.
public enum ISOTime: Sendable {
    /// `time` (Unix ms) as `2026-11-28T01:02:03Z`, with `.456` when the
    /// milliseconds are not zero, at `offset` milliseconds east of UTC
    /// (`2026-11-28T02:02:03+01:00`).
    public static func format(_ time: Int64, offset: Int64 = 0) -> String {
        let local = time.addingClamped(offset)
        let day = local.flooredDivision(by: BucketSize.millisecondsPerDay)
        let inDay = local.modulo(BucketSize.millisecondsPerDay)
        let date = CivilDate(day: day)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var text = date.year >= 0 && date.year < 10000
            ? String(repeating: "0", count: 4 - String(date.year).count) + String(date.year) : String(date.year)
        text += "-\(two(date.month))-\(two(date.day))T\(two(inDay / 3_600_000)):\(two(inDay / 60000 % 60)):\(two(inDay / 1000 % 60))"
        let milliseconds = inDay % 1000
        if milliseconds != 0 {
            text += "." + String(repeating: "0", count: 3 - String(milliseconds).count) + String(milliseconds)
        }
        return text + offsetSuffix(offset)
    }

    /// `Z`, or `+HH:MM` / `-HH:MM` for `offset` milliseconds.
    public static func offsetSuffix(_ offset: Int64) -> String {
        guard offset != 0 else { return "Z" }
        let minutes = offset.magnitude / 60000
        func two(_ value: UInt64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return (offset < 0 ? "-" : "+") + two(minutes / 60) + ":" + two(minutes % 60)
    }

    /// The offset `text` (`+HH:MM`, `-HH:MM`, `Z`, `+HH`) names, in
    /// milliseconds, or nil; at most 18 hours either way (as ISO-8601 and
    /// every real time zone keep).
    public static func parseOffset(_ text: String) -> Int64? {
        if text == "Z" || text == "z" { return 0 }
        let bytes = Array(text.utf8)
        guard let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
        func digits(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[range] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        guard let hours = digits(1..<3) else { return nil }
        var minutes: Int64 = 0
        if bytes.count == 6, bytes[3] == UInt8(ascii: ":"), let m = digits(4..<6) {
            minutes = m
        } else if bytes.count == 5, let m = digits(3..<5) {
            minutes = m
        } else if bytes.count != 3 {
            return nil
        }
        guard minutes < 60, hours * 60 + minutes <= 18 * 60 else { return nil }
        let magnitude = (hours * 60 + minutes) * 60000
        return sign == UInt8(ascii: "-") ? -magnitude : magnitude
    }
}

extension Int64 {
    /// ⌊self / divisor⌋ (divisor > 0).
    func flooredDivision(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }

    /// self mod divisor in 0..<divisor (divisor > 0).
    func modulo(_ divisor: Int64) -> Int64 {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }

    /// The largest multiple of `divisor` at or below self.
    func flooredMultiple(of divisor: Int64) -> Int64 {
        flooredDivision(by: divisor).multipliedClamped(divisor)
    }

    /// self + other, held at Int64.min or Int64.max instead of overflowing.
    func addingClamped(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// self × other, held at the ends instead of overflowing.
    func multipliedClamped(_ other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) != (other < 0) ? .min : .max) : product
    }
}
