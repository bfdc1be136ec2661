import SockStatFormat

/// A rollup tier as a caller chooses it: its window and its part of the
/// directory cap, as a fraction, so that a cap alone scales every tier
/// (`--max-total-bytes`). The recorded events (tier 0) get what the rollup
/// tiers leave.
public struct RollupTierShare: Hashable, Sendable, CustomStringConvertible {
    /// The tier's window, milliseconds: its events are the sums of windows
    /// of this length aligned to the Unix epoch (`Spec/OUTPUT.md` 4.1).
    public var windowMilliseconds: Int64
    /// Its part of the directory cap, more than 0 and less than 1.
    public var fractionOfCap: Double

    /// A tier of `windowMilliseconds` keeping `fractionOfCap` of the cap.
    public init(windowMilliseconds: Int64, fractionOfCap: Double) {
        self.windowMilliseconds = windowMilliseconds
        self.fractionOfCap = fractionOfCap
    }

    /// The default tiers: 1 minute with 29% of the cap, 1 hour with 26%;
    /// the recorded events keep 45%. With the default 5 MiB and the
    /// reference workload that is 12 hours of the recorded events at their
    /// busiest, 30 days of minutes and a year of hours (`Spec/RECORDER.md` 4.2).
    public static let defaults: [RollupTierShare] = [
        RollupTierShare(windowMilliseconds: 60_000, fractionOfCap: 0.29),
        RollupTierShare(windowMilliseconds: 3_600_000, fractionOfCap: 0.26),
    ]

    /// The tiers a directory of `maxTotalBytes` gets when none are chosen:
    /// `defaults` when the cap holds them with recorded segments of
    /// `recordedSegmentBytes` (`TieredRetentionOptions.problem(recordedSegmentBytes:)`;
    /// from 31,508 bytes), else none: a small cap keeps recorded events only.
    public static func defaults(forCap maxTotalBytes: Int, recordedSegmentBytes: Int) -> [RollupTierShare] {
        let tiered = TieredRetentionOptions(maxTotalBytes: maxTotalBytes, tiers: defaults)
        return tiered.problem(recordedSegmentBytes: recordedSegmentBytes) == nil ? defaults : []
    }

    /// `1m:30%`.
    public var description: String {
        SegmentName.text(ofWindow: windowMilliseconds) + ":" + Self.percentText(fractionOfCap)
    }

    /// The text `parse(_:)` reads back: `none`, or the tiers joined by commas.
    public static func text(of tiers: [RollupTierShare]) -> String {
        tiers.isEmpty ? "none" : tiers.map(\.description).joined(separator: ",")
    }

    private static func percentText(_ fraction: Double) -> String {
        let percent = fraction * 100
        return (percent == percent.rounded() ? String(Int(percent)) : String(percent)) + "%"
    }

    /// Reads a tier list: `none` (no rollups), or comma-separated
    /// `WINDOW:SHARE` with WINDOW a window's text (`1m`, `1h`, `90s`, `1500ms`,
    /// `7d`: `SegmentName.text(ofWindow:)`) and SHARE a percentage of the cap
    /// (`30%`, `12.5%`).
    ///
    /// - Returns: the tiers, or a one-line reason why `text` is not a tier list.
    public static func parse(_ text: String) -> Result<[RollupTierShare], TierListError> {
        if text == "none" { return .success([]) }
        var tiers: [RollupTierShare] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                return .failure(TierListError("'\(item)' is not WINDOW:SHARE (such as 1m:30%)"))
            }
            guard let window = window(fromText: String(parts[0])) else {
                return .failure(TierListError("'\(parts[0])' is not a window (such as 1m, 1h, 90s, 1500ms, 7d; at most 366d)"))
            }
            guard parts[1].hasSuffix("%"), let percent = Double(parts[1].dropLast()), percent.isFinite else {
                return .failure(TierListError("'\(parts[1])' is not a share of the cap (such as 30%)"))
            }
            tiers.append(RollupTierShare(windowMilliseconds: window, fractionOfCap: percent / 100))
        }
        if let problem = problem(of: tiers) { return .failure(TierListError(problem)) }
        return .success(tiers)
    }

    /// A window's text, as names carry it, but also not in its shortest form
    /// (`60s` for `1m`): what a person types.
    private static func window(fromText text: String) -> Int64? {
        if let window = SegmentName.window(fromText: text) { return window }
        for (unit, milliseconds) in [("ms", Int64(1)), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        where text.hasSuffix(unit) {
            let digits = text.dropLast(unit.count)
            guard !digits.isEmpty, digits.count <= 12, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let count = Int64(digits), count > 0 else { continue }
            let window = count * milliseconds
            if window <= RollupTier.maxWindow { return window }
        }
        return nil
    }

    /// Why `tiers` cannot be used, or nil: windows from 1 ms to 366 days,
    /// each a whole multiple of the one before (a coarse window is a union of
    /// whole finer ones, so no finer window is split between two coarse
    /// ones), shares more than 0, summing to less than 100% (the recorded
    /// events keep the rest).
    public static func problem(of tiers: [RollupTierShare]) -> String? {
        var previous: Int64?
        var sum = 0.0
        for tier in tiers {
            let window = tier.windowMilliseconds
            guard window >= 1, window <= RollupTier.maxWindow else {
                return "a tier's window must be from 1 ms to 366 days, not \(window) ms"
            }
            if let previous {
                guard window > previous, window % previous == 0 else {
                    return "tier windows must grow, each a whole multiple of the one before: "
                        + "\(SegmentName.text(ofWindow: window)) after \(SegmentName.text(ofWindow: previous))"
                }
            }
            guard tier.fractionOfCap.isFinite, tier.fractionOfCap > 0 else {
                return "a tier's share must be more than 0% (\(tier))"
            }
            previous = window
            sum += tier.fractionOfCap
        }
        guard sum < 1 else {
            return "the tiers' shares sum to \(percentText(sum)); they must leave the recorded events some (under 100%)"
        }
        return nil
    }
}

/// Why a tier list (`--tiers`) cannot be used.
public struct TierListError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A one-line reason.
    public var description: String

    init(_ description: String) { self.description = description }
}

/// One rollup tier of a directory, in bytes.
public struct RollupTierOptions: Hashable, Sendable {
    /// The tier's window, milliseconds.
    public var windowMilliseconds: Int64
    /// Its files (the tail being rewritten and its temporary file included)
    /// stay at or under this many bytes.
    public var maxBytes: Int
    /// A tail is not rewritten past this size: a new tail starts.
    public var maxSegmentBytes: Int

    /// A tier of `windowMilliseconds` keeping `maxBytes`, its segments
    /// `segmentBytes(forShare:)` of that share unless given.
    public init(windowMilliseconds: Int64, maxBytes: Int, maxSegmentBytes: Int? = nil) {
        self.windowMilliseconds = windowMilliseconds
        self.maxBytes = maxBytes
        self.maxSegmentBytes = maxSegmentBytes ?? Self.segmentBytes(forShare: maxBytes)
    }

    /// A rollup tier's segment size for a share of `maxBytes`: an eighth of
    /// it, at least 4 KiB, at most 64 KiB. A rollup rewrites the tail, and
    /// the tail and the file replacing it are both on disk for a moment, so
    /// the segment size is what a rewrite costs and twice it what the tier
    /// cannot use: small segments keep more history in the share.
    public static func segmentBytes(forShare maxBytes: Int) -> Int {
        min(64 * 1024, max(4096, maxBytes / 8))
    }
}

/// How `TieredRetention` keeps a directory: the cap, the recorded events'
/// part of it, and the rollup tiers after them.
public struct TieredRetentionOptions: Hashable, Sendable {
    /// Every file of this user's counted (segments of every tier, the open
    /// one, a rollup's temporary file, set-aside files) stays at or under this.
    public var maxTotalBytes: Int
    /// The recorded events' segments (tier 0), the open one and the bytes
    /// about to be added included, stay at or under this.
    public var recordedMaxBytes: Int
    /// The rollup tiers, finest first. Empty: the oldest recorded segment is
    /// deleted when room is needed, as without tiers.
    public var rollupTiers: [RollupTierOptions]
    /// Closed segments last written longer ago than this are deleted, if set.
    public var maxAgeMilliseconds: Int64?

    /// The tiers `shares` of `maxTotalBytes`; the recorded events get the rest.
    public init(maxTotalBytes: Int, tiers shares: [RollupTierShare], maxAgeMilliseconds: Int64? = nil) {
        self.maxTotalBytes = maxTotalBytes
        self.maxAgeMilliseconds = maxAgeMilliseconds
        rollupTiers = shares.map {
            RollupTierOptions(windowMilliseconds: $0.windowMilliseconds,
                              maxBytes: Int((Double(maxTotalBytes) * $0.fractionOfCap).rounded(.down)))
        }
        recordedMaxBytes = maxTotalBytes - rollupTiers.reduce(0) { $0 + $1.maxBytes }
    }

    /// Why these options cannot keep a directory whose recorded segments
    /// rotate at `recordedSegmentBytes`, or nil: the recorded events' share
    /// holds one of their segments (as a cap must), and each rollup tier's
    /// share two of its own (the tail and the temporary file that replaces it).
    public func problem(recordedSegmentBytes: Int) -> String? {
        if recordedMaxBytes < recordedSegmentBytes {
            return "the recorded events' share of the cap (\(recordedMaxBytes) bytes) must be at least the segment size "
                + "(\(recordedSegmentBytes) bytes)"
        }
        for tier in rollupTiers where tier.maxBytes < 2 * tier.maxSegmentBytes {
            return "the \(SegmentName.text(ofWindow: tier.windowMilliseconds)) tier's share (\(tier.maxBytes) bytes) "
                + "must hold two of its segments (\(2 * tier.maxSegmentBytes) bytes); give it more, or a larger cap"
        }
        return nil
    }
}

/// Counters of what rollups have done.
public struct RollupMetrics: Hashable, Sendable {
    /// Times room was made by rolling up (one pass can roll segments
    /// through several tiers).
    public var passes = 0
    /// Segments rolled up into the next tier (then deleted).
    public var segmentsRolledUp = 0
    /// Bytes of rollup segments written (temporary files included).
    public var bytesWritten = 0

    /// All zero.
    public init() {}
}
