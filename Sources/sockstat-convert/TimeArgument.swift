/// A `--since`/`--until` value: Unix milliseconds, or an ISO-8601 UTC time
/// (`2026-11-28`, `2026-11-28T01:02:03Z`, `2026-11-28T01:02:03.456Z`, a space
/// for the `T`, `+00:00` for the `Z`).
enum TimeArgument {
    /// The time `text` names, in Unix milliseconds, or why it names none.
    static func parse(_ text: String) -> Result<Int64, Invalid> {
        if let milliseconds = Int64(text) { return .success(milliseconds) }
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int64? {
            guard index + digits <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<(index + digits)] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            index += digits
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue! else { return false }
            index += 1
            return true
        }
        let shape = Invalid(reason: "neither Unix milliseconds nor an ISO-8601 UTC time (2026-11-28 or 2026-11-28T01:02:03.456Z)")
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2) else {
            return .failure(shape)
        }
        guard (1...12).contains(month) else { return .failure(Invalid(reason: "there is no month \(month)")) }
        let days = daysIn(month: month, year: year)
        guard (1...days).contains(day) else {
            return .failure(Invalid(reason: "\(Self.monthNames[Int(month) - 1]) \(year) has \(days) days"))
        }
        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0, milliseconds: Int64 = 0
        if index < bytes.count {
            guard expect("T") || expect(" "), let h = number(2), expect(":"), let m = number(2), expect(":"),
                  let s = number(2) else { return .failure(shape) }
            // A leap second, 23:59:60, is inserted only at the end of a UTC day;
            // it reads as the next day's first second.
            let named = [h, m, s].map { $0 < 10 ? "0\($0)" : "\($0)" }.joined(separator: ":")
            guard h < 24, m < 60, s < 60 || (s == 60 && h == 23 && m == 59) else {
                let leap = s == 60 && h < 24 && m < 60 ? " (a leap second is 23:59:60)" : ""
                return .failure(Invalid(reason: "there is no time \(named)\(leap)"))
            }
            hour = h; minute = m; second = s
            if expect(".") {
                var scale: Int64 = 100
                var any = false
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                    milliseconds += Int64(bytes[index] - 48) * scale
                    scale /= 10
                    index += 1
                    any = true
                }
                guard any else { return .failure(shape) }
            }
            guard expect("Z") || (index + 6 == bytes.count && text.hasSuffix("+00:00") && { index += 6; return true }())
            else { return .failure(Invalid(reason: "not UTC: end the time with Z or +00:00")) }
        }
        guard index == bytes.count else { return .failure(shape) }
        let daysSinceEpoch = daysFromCivil(year: year, month: month, day: day)
        return .success(((daysSinceEpoch * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + milliseconds)
    }

    /// Why a value names no time.
    struct Invalid: Error {
        var reason: String
    }

    private static let monthNames = ["January", "February", "March", "April", "May", "June", "July",
                                     "August", "September", "October", "November", "December"]

    /// Days in `month` of `year`, proleptic Gregorian (leap years: every
    /// fourth, but not centuries unless divisible by 400).
    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
