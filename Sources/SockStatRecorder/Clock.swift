#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The two times the recorder reads at each poll.
public struct ClockReading: Hashable, Sendable {
    /// Wall-clock time, Unix milliseconds: becomes an event's `t`.
    public var wallMilliseconds: Int64
    /// Monotonic time in milliseconds: differences become an event's `d`.
    /// It never goes backwards; its origin is arbitrary.
    public var monotonicMilliseconds: UInt64

    /// Creates a reading.
    public init(wallMilliseconds: Int64, monotonicMilliseconds: UInt64) {
        self.wallMilliseconds = wallMilliseconds
        self.monotonicMilliseconds = monotonicMilliseconds
    }
}

/// Where the recorder gets the time. Injectable so that tests and replays
/// run on virtual time.
public protocol RecorderClock: Sendable {
    /// The current wall and monotonic times.
    func now() -> ClockReading
}

/// The system's clocks: `CLOCK_REALTIME`, and `CLOCK_MONOTONIC` on Linux or
/// `CLOCK_UPTIME_RAW` on Apple platforms.
///
/// Both monotonic clocks stand still while the machine sleeps (Darwin's
/// `CLOCK_MONOTONIC` does not), so an event that spans a sleep has the same
/// `d` on either; Go's monotonic time, which Tailscale's sockstatlog uses,
/// reads the same two clocks.
public struct SystemClock: RecorderClock {
    /// Creates the system clock.
    public init() {}

    public func now() -> ClockReading {
        var wall = timespec()
        var monotonic = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        #if canImport(Darwin)
        clock_gettime(CLOCK_UPTIME_RAW, &monotonic)
        #else
        clock_gettime(CLOCK_MONOTONIC, &monotonic)
        #endif
        return ClockReading(
            wallMilliseconds: Int64(wall.tv_sec) * 1000 + Int64(wall.tv_nsec) / 1_000_000,
            monotonicMilliseconds: UInt64(monotonic.tv_sec) * 1000 + UInt64(monotonic.tv_nsec) / 1_000_000
        )
    }
}

/// A clock that reads whatever it was last set to: virtual time for replays
/// and tests.
public final class ManualClock: RecorderClock {
    private let reading: Lock<ClockReading>

    /// Creates a clock reading `initial`.
    public init(_ initial: ClockReading = ClockReading(wallMilliseconds: 0, monotonicMilliseconds: 0)) {
        reading = Lock(initial)
    }

    /// Sets the time the clock reads.
    public func set(_ value: ClockReading) {
        reading.withLock { $0 = value }
    }

    public func now() -> ClockReading {
        reading.withLock { $0 }
    }
}
