import SockStatFormat
import Synchronization

/// Byte counters an app keeps for its own sockets, one per label, like
/// Tailscale's sockstats package.
///
/// The app asks once for the counter of each label (`counter(for:)`) and
/// then calls `add(sent:received:)` on it from any thread; adding takes no
/// lock. The recorder polls with `read(into:)`, which lists every counter
/// ever created, in creation order, at its current value.
///
/// Nothing added is lost: the first `Recorder` created over these counters
/// starts from zero (`claimZeroBaseline()`), so every byte added, from the
/// counters' creation on, is in its events; its `shutdown()` takes a last
/// poll, so the bytes added up to then are too.
///
/// A class: the counters are shared state between the app's threads and the
/// recorder, and the app holds on to them by identity.
public final class InProcessCounters: CounterSource {
    /// Every counter, by creation order and by label. Creating a counter and
    /// reading take the lock; adding does not touch it.
    private let registry = Lock(Registry())
    private let cellular = Atomic<Bool>(false)
    /// Set when the first recorder claims the zero baseline.
    private let zeroBaselineClaimed = Atomic<Bool>(false)

    /// Creates a source with no counters, not cellular.
    public init() {}

    /// The counter for `label`, created on first use; the same object every
    /// time after.
    ///
    /// Keep the counter rather than asking per packet: this takes a lock.
    ///
    /// - Parameter label: the label to count under, at most
    ///   `FormatLimits.maxLabelBytes` (1024) bytes.
    /// - Returns: the label's counter.
    /// - Throws: `LabelError` (`.tooLong`) for a label the format cannot
    ///   store; the refusal is counted, and the recorder's metrics show it
    ///   (`labelsRefused`).
    public func counter(for label: Label) throws(LabelError) -> ByteCounter {
        guard label.bytes.count <= FormatLimits.maxLabelBytes else {
            registry.withLock { $0.refuse(label) }
            throw LabelError(.tooLong, "label of \(label.bytes.count) bytes (limit \(FormatLimits.maxLabelBytes))")
        }
        return registry.withLock { registry in
            if let existing = registry.byLabel[label] {
                return existing
            }
            let created = ByteCounter(label: label)
            registry.byLabel[label] = created
            registry.inOrder.append(created)
            return created
        }
    }

    /// The counter for the label with `label`'s UTF-8 bytes, created on first
    /// use; the same object every time after.
    ///
    /// - Parameter label: the label's text, at most 1024 UTF-8 bytes.
    /// - Returns: the label's counter.
    /// - Throws: `LabelError` for a label the format cannot store.
    public func counter(for label: String) throws(LabelError) -> ByteCounter {
        try counter(for: Label(label))
    }

    /// How many labels `counter(for:)` refused so far, each counted once
    /// however often it was asked for.
    public var refusedLabels: Int {
        registry.withLock { $0.refusedCount }
    }

    /// Whether the app's current interface is cellular; the app sets it when
    /// its network changes. Atomic: any thread may set or read it.
    public var isCellular: Bool {
        get { cellular.load(ordering: .relaxed) }
        set { cellular.store(newValue, ordering: .relaxed) }
    }

    /// True once, to the first recorder created over these counters: every
    /// counter starts at zero, so that recorder records every byte added,
    /// even before it was created or started (the bytes counted before it
    /// was created are in its first event). A later recorder over the same
    /// counters gets false and reads its baseline when it starts: the bytes
    /// before it belong to the first one.
    public func claimZeroBaseline() -> Bool {
        !zeroBaselineClaimed.exchange(true, ordering: .relaxed)
    }

    /// Replaces `snapshot` with every counter's current values, in creation
    /// order, and the current `isCellular`.
    ///
    /// Allocates nothing once the snapshot's arrays have grown to the number
    /// of counters: the labels are the counters' own.
    ///
    /// - Parameter snapshot: the snapshot to refill.
    public func read(into snapshot: inout CounterSnapshot) {
        snapshot.removeAll()
        registry.withLock { registry in
            for counter in registry.inOrder {
                snapshot.append(counter.label, tx: counter.sent, rx: counter.received)
            }
            snapshot.refusedLabels = registry.refusedCount
        }
        snapshot.isCellular = isCellular
    }
}

/// Why a label cannot be counted.
public struct LabelError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// Longer than `FormatLimits.maxLabelBytes` bytes.
        public static let tooLong = Code("too long")

        public var description: String { name }
    }

    /// What is wrong with it.
    public var code: Code
    /// A one-line explanation.
    public var reason: String

    init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
}

/// The counters of an `InProcessCounters`.
private struct Registry: Sendable {
    var inOrder: [ByteCounter] = []
    var byLabel: [Label: ByteCounter] = [:]
    /// Labels refused, to count each once; past a few thousand, refusals
    /// are counted each time.
    var refused: Set<Label> = []
    var refusalsNotRemembered = 0

    var refusedCount: Int { refused.count + refusalsNotRemembered }

    mutating func refuse(_ label: Label) {
        if refused.count < 4096 {
            refused.insert(label)
        } else if !refused.contains(label) {
            refusalsNotRemembered += 1
        }
    }
}

/// Cumulative bytes sent and received under one label.
///
/// Each total is a 64-bit atomic that wraps on overflow, as kernel counters
/// do; the recorder treats a counter going down as a wrap or reset. The two
/// totals are independent: a read may see one `add`'s sent bytes and not yet
/// its received bytes, never a total that goes backwards.
public final class ByteCounter: Sendable {
    /// The label the bytes are counted under.
    public let label: Label
    private let sentBytes = Atomic<UInt64>(0)
    private let receivedBytes = Atomic<UInt64>(0)

    init(label: Label) {
        self.label = label
    }

    /// Adds bytes sent and received. Lock-free; callable from any thread.
    ///
    /// - Parameters:
    ///   - sent: bytes written to the socket.
    ///   - received: bytes read from the socket.
    public func add(sent: UInt64 = 0, received: UInt64 = 0) {
        // Relaxed: the totals order nothing else, and each atomic on its own
        // is still seen in one order by every thread.
        if sent != 0 {
            sentBytes.wrappingAdd(sent, ordering: .relaxed)
        }
        if received != 0 {
            receivedBytes.wrappingAdd(received, ordering: .relaxed)
        }
    }

    /// Total bytes sent so far, modulo 2^64.
    public var sent: UInt64 {
        sentBytes.load(ordering: .relaxed)
    }

    /// Total bytes received so far, modulo 2^64.
    public var received: UInt64 {
        receivedBytes.load(ordering: .relaxed)
    }
}
