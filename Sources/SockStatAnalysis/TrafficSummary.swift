import SockStatFormat

/// How a `TrafficSummary` splits and measures.
public struct SummaryOptions: Hashable, Sendable {
    /// One total (the default) or per hour, day, week or month.
    public var bucketSize: BucketSize
    /// Milliseconds east of UTC at which bucket boundaries fall (0: UTC
    /// midnight; `+01:00` is 3,600,000). Whole minutes (as `--utc-offset`
    /// gives): with another offset a boundary would split a second, whose
    /// window then counts in the bucket of its first event.
    public var utcOffset: Int64
    /// A stretch with no events longer than this many milliseconds is a
    /// gap (a phone asleep); 60 s by default, 10× the recorder's flush
    /// interval and far longer than its 100 ms polls.
    public var gapThreshold: Int64
    /// How many of the longest gaps are kept.
    public var longestGapsKept: Int

    /// Creates options; the defaults give one total in UTC, gaps over 60 s, the 5 longest kept.
    public init(bucketSize: BucketSize = .total, utcOffset: Int64 = 0, gapThreshold: Int64 = 60_000,
                longestGapsKept: Int = 5) {
        self.bucketSize = bucketSize
        self.utcOffset = utcOffset
        self.gapThreshold = gapThreshold
        self.longestGapsKept = longestGapsKept
    }
}

/// Adds up decoded blocks: per label tx, rx and their cellular part,
/// seconds active, peak and percentile rates over 1 s windows; overall the
/// time covered, events and gaps; per bucket the same per-label figures.
///
/// A value you feed block by block (`add(_:range:)`, or through a
/// `SummaryBlockWriter`), then read with `figures`. With `.total` its memory
/// depends on the number of labels, not on the input's length (rates are kept
/// in bounded histograms, `RateDistribution`); with buckets it grows with the
/// buckets that hold events and the labels each of them saw.
///
/// Rates come from events of at most 1 s (`d` ≤ 1000): a rollup tier's
/// event, a minute or an hour summed, says how many bytes moved in it but
/// not at what rate, so it counts in the totals only.
///
/// 1 s windows are formed in reading order: per label, consecutive events
/// with `t` in the same UTC second add up into one window, which closes when
/// an event of that label falls in another second. For input in time order
/// (one recorder's directory) that is exactly "bytes per second". When `t`
/// goes back (a clock stepped back, PATHs given out of order), a second can
/// then be split into two windows: peak, percentiles and seconds active
/// describe the windows as read; totals are always exact.
///
/// Gaps are found in reading order too: an event whose `t` is more than the
/// threshold after the latest end (`t + d`) seen so far starts a gap there.
/// For input in time order that is every gap; out of order, a gap may hold
/// events read after it.
public struct TrafficSummary: Sendable {
    /// The options.
    public let options: SummaryOptions

    // Labels, indexed in order of first appearance.
    private var labels: [Label] = []
    private var indexOfLabel: [Label: Int] = [:]
    /// The label index of each slot of the block being added (mapped once
    /// per block), and of the block before (its buffer, swapped back and forth).
    private var slotLabels: [Int] = []
    private var previousSlotLabels: [Int] = []

    private var overall: [LabelFigures] = []
    private var windows: [OpenWindow] = []

    private var events = 0
    private var firstTime: Int64?
    private var endTime: Int64?
    private var latestEnd: Int64?
    private var gaps: GapFigures
    /// The tier of the segment being read (`beginSegment(window:)`), and the periods so far.
    private var segmentWindow: Int64 = 0
    private var resolutions: [ResolutionPeriod] = []

    // Buckets, in order of first appearance; the last one used is cached.
    private var buckets: [BucketFigures] = []
    private var indexOfBucket: [Int64: Int] = [:]
    private var cachedBucket: (start: Int64, end: Int64, index: Int) = (0, 0, -1)
    /// By label: the bucket it last had an entry in, and its index among
    /// that bucket's labels. A bucket holds only the labels it saw, so a
    /// log of many labels over many buckets costs the entries, not labels × buckets.
    private var lastBucketOfLabel: [Int] = []
    private var indexInLastBucket: [Int] = []

    /// The window a label is summing: its second, bytes so far, and bucket.
    private struct OpenWindow: Sendable {
        var second: Int64 = 0
        var tx = ByteTotal()
        var rx = ByteTotal()
        var bucket = -1
        /// The label's index among the bucket's labels.
        var labelInBucket = -1
        var isOpen = false
    }

    /// An empty summary.
    public init(options: SummaryOptions = SummaryOptions()) {
        self.options = options
        gaps = GapFigures(threshold: options.gapThreshold)
    }

    /// Says that the blocks added next come from a segment of the tier with
    /// `window` (0: recorded events), for `SummaryFigures.resolutions`.
    public mutating func beginSegment(window: Int64) {
        segmentWindow = window
    }

    /// Adds the events of `block` whose `t` is in `range`.
    ///
    /// - Returns: how many events were in `range`.
    @discardableResult
    public mutating func add(_ block: DecodedBlock, range: TimeRange = TimeRange()) -> Int {
        mapSlots(of: block)
        // The per-label arrays leave self for the loop, so that an entry
        // reaches them through buffer pointers, with no uniqueness checks.
        var overall: [LabelFigures] = [], windows: [OpenWindow] = []
        swap(&overall, &self.overall)
        swap(&windows, &self.windows)
        defer {
            swap(&overall, &self.overall)
            swap(&windows, &self.windows)
        }
        let slotLabels = self.slotLabels
        let everything = range.isEverything
        let bucketing = options.bucketSize != .total
        var counted = 0
        // The block's part of its resolution period.
        var blockFirst = Int64.max, blockEnd = Int64.min, shortest = Int64.max, longest: Int64 = 0
        overall.withUnsafeMutableBufferPointer { overall in
            windows.withUnsafeMutableBufferPointer { windows in
                for event in 0..<block.eventCount {
                    let time = block.time(at: event)
                    if !everything && !range.contains(time) { continue }
                    counted += 1
                    let duration = block.duration(at: event)
                    noteTime(time, duration: duration)
                    blockFirst = min(blockFirst, time)
                    blockEnd = max(blockEnd, time.addingClamped(max(duration, 0)))
                    if duration > 0 {
                        shortest = min(shortest, duration)
                        longest = max(longest, duration)
                    }
                    let bucket = bucketing ? bucketIndex(of: time) : -1
                    if bucket >= 0 { buckets[bucket].events += 1 }
                    let cellular = block.isCellular(at: event)
                    let second = time.flooredDivision(by: 1000)
                    // A rollup tier's event (longer than a rate window) has totals, not a rate.
                    let feedsRates = duration <= 1000
                    for entry in block.entries(of: event) {
                        let label = slotLabels[block.slot(ofEntry: entry)]
                        let tx = block.tx(ofEntry: entry)
                        let rx = block.rx(ofEntry: entry)
                        overall[label].add(tx: tx, rx: rx, cellular: cellular)
                        var labelInBucket = -1
                        if bucket >= 0 {
                            labelInBucket = index(of: label, in: bucket)
                            buckets[bucket].labels[labelInBucket].add(tx: tx, rx: rx, cellular: cellular)
                        }
                        guard tx | rx != 0, feedsRates else { continue }
                        if !windows[label].isOpen || windows[label].second != second {
                            Self.close(&windows[label], into: &overall[label], buckets: &buckets)
                            windows[label] = OpenWindow(second: second, bucket: bucket, labelInBucket: labelInBucket, isOpen: true)
                        }
                        windows[label].tx.add(tx)
                        windows[label].rx.add(rx)
                    }
                }
            }
        }
        events += counted
        if counted > 0 {
            if resolutions.last?.window != segmentWindow {
                resolutions.append(ResolutionPeriod(window: segmentWindow, firstTime: blockFirst, endTime: blockEnd))
            }
            let last = resolutions.count - 1
            resolutions[last].firstTime = min(resolutions[last].firstTime, blockFirst)
            resolutions[last].endTime = max(resolutions[last].endTime, blockEnd)
            resolutions[last].events += counted
            if longest > 0 {
                resolutions[last].shortestDuration = min(resolutions[last].shortestDuration ?? .max, shortest)
                resolutions[last].longestDuration = max(resolutions[last].longestDuration ?? 0, longest)
            }
        }
        return counted
    }

    /// What the summary holds so far (open windows counted as closed).
    public var figures: SummaryFigures {
        var copy = self
        for label in copy.labels.indices {
            Self.close(&copy.windows[label], into: &copy.overall[label], buckets: &copy.buckets)
        }
        var figures = SummaryFigures(options: options, gaps: copy.gaps)
        figures.events = copy.events
        figures.firstTime = copy.firstTime
        figures.endTime = copy.endTime
        figures.resolutions = copy.resolutions
        // A label is listed where it had an entry (even of 0 bytes), not
        // merely because a block defined it.
        figures.labels = Self.ordered(copy.overall.filter(\.appeared))
        figures.buckets = copy.buckets.sorted { $0.start < $1.start }.map { bucket in
            var bucket = bucket
            bucket.labels = Self.ordered(bucket.labels.filter(\.appeared))
            bucket.indexOfLabel = [:]
            return bucket
        }
        return figures
    }

    // MARK: Internals

    /// Largest total first, then bytewise label order.
    private static func ordered(_ labels: [LabelFigures]) -> [LabelFigures] {
        labels.sorted { lhs, rhs in
            let (left, right) = (lhs.totals.total, rhs.totals.total)
            return left != right ? left > right : lhs.label < rhs.label
        }
    }

    private mutating func mapSlots(of block: DecodedBlock) {
        // Blocks of one writer usually define the same labels in the same
        // order: a slot whose bytes match the previous block's keeps its
        // index without hashing.
        swap(&slotLabels, &previousSlotLabels)
        let previous = previousSlotLabels
        slotLabels.removeAll(keepingCapacity: true)
        for slot in 0..<block.labelCount {
            let bytes = block.labelBytes(slot: slot)
            if slot < previous.count, labels[previous[slot]].bytes.elementsEqual(bytes) {
                slotLabels.append(previous[slot])
                continue
            }
            // Or in another order: a short search beats hashing for a few labels.
            if previous.count <= 16, let known = previous.first(where: { labels[$0].bytes.elementsEqual(bytes) }) {
                slotLabels.append(known)
                continue
            }
            let label = Label(bytes: Array(bytes))
            if let index = indexOfLabel[label] {
                slotLabels.append(index)
            } else {
                let index = labels.count
                labels.append(label)
                indexOfLabel[label] = index
                overall.append(LabelFigures(label: label))
                windows.append(OpenWindow())
                lastBucketOfLabel.append(-1)
                indexInLastBucket.append(-1)
                slotLabels.append(index)
            }
        }
    }

    private mutating func noteTime(_ time: Int64, duration: Int64) {
        let end = time.addingClamped(max(duration, 0))
        if let first = firstTime { firstTime = min(first, time) } else { firstTime = time }
        if let last = endTime { endTime = max(last, end) } else { endTime = end }
        if let latest = latestEnd {
            if time > latest.addingClamped(max(options.gapThreshold, 0)) {
                // time − latest > 0 (a negative threshold counts as 0); it
                // overflows only when it spans more than Int64.max.
                let (length, overflow) = time.subtractingReportingOverflow(latest)
                gaps.record(Gap(start: latest, length: overflow ? .max : length), keeping: options.longestGapsKept)
            }
            latestEnd = max(latest, end)
        } else {
            latestEnd = end
        }
    }

    private mutating func bucketIndex(of time: Int64) -> Int {
        if cachedBucket.index >= 0, time >= cachedBucket.start, time < cachedBucket.end {
            return cachedBucket.index
        }
        guard let (start, end) = options.bucketSize.bucket(of: time, offset: options.utcOffset) else { return -1 }
        let index: Int
        if let known = indexOfBucket[start] {
            index = known
        } else {
            index = buckets.count
            buckets.append(BucketFigures(start: start, end: end))
            indexOfBucket[start] = index
        }
        // Moving on from a bucket (input in time order is done with it, but
        // for a window or two): its histograms keep only the buckets in use.
        if cachedBucket.index >= 0, cachedBucket.index != index {
            for label in buckets[cachedBucket.index].labels.indices { buckets[cachedBucket.index].labels[label].compact() }
        }
        cachedBucket = (start, end, index)
        return index
    }

    /// The index of `label` among the labels of `bucket`, added when new.
    @inline(__always)
    private mutating func index(of label: Int, in bucket: Int) -> Int {
        if lastBucketOfLabel[label] == bucket { return indexInLastBucket[label] }
        let index: Int
        if let known = buckets[bucket].indexOfLabel[label] {
            index = known
        } else {
            index = buckets[bucket].labels.count
            buckets[bucket].labels.append(LabelFigures(label: labels[label]))
            buckets[bucket].indexOfLabel[label] = index
        }
        lastBucketOfLabel[label] = bucket
        indexInLastBucket[label] = index
        return index
    }

    /// Closes `window` of `label` if it is open: its bytes become one window
    /// of the label's figures, overall and in its bucket.
    private static func close(_ window: inout OpenWindow, into overall: inout LabelFigures,
                              buckets: inout [BucketFigures]) {
        guard window.isOpen else { return }
        overall.closeWindow(tx: window.tx, rx: window.rx)
        if window.bucket >= 0 { buckets[window.bucket].labels[window.labelInBucket].closeWindow(tx: window.tx, rx: window.rx) }
        window.isOpen = false
    }
}
