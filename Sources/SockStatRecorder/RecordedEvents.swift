import SockStatFormat
import Synchronization

/// One event as the recorder recorded it, for a live view.
public struct RecordedEvent: Hashable, Sendable {
    /// The event: `t`, `d`, `c` and each changed label's `tx`/`rx` deltas,
    /// the values the log holds (labels in byte order, as canonical JSON
    /// sorts them). An event the log holds as several (more than 1024
    /// labels) comes as several here too.
    public var event: Event
    /// Events this subscriber missed just before this one: its buffer was
    /// full, so the oldest were dropped. 0 unless the consumer fell behind;
    /// the log itself has them all.
    public var missedBefore: Int

    /// Describes a recorded event.
    public init(event: Event, missedBefore: Int) {
        self.event = event
        self.missedBefore = missedBefore
    }
}

/// The events a `Recorder` records from the moment it was asked for them,
/// for an app that shows a live view: an `AsyncSequence` that never slows
/// the recorder.
///
/// Each event the recorder hands to its log (the same values that land in
/// the log, in the same order) is put into this subscription's buffer of
/// at most `bufferingNewest` events; the poller never waits for a consumer.
/// When the consumer falls behind and the buffer is full, the oldest
/// buffered event is dropped to make room: the consumer sees how many it
/// missed in the next event's `missedBefore`. Nothing is lost from the log.
///
/// The sequence ends after `Recorder.shutdown()` once the buffered events
/// are consumed. Cancelling the task that iterates it ends it at once (the
/// buffered events are discarded), as does leaving the loop or dropping the
/// sequence and its iterator: each unsubscribes. Iterate it once, in one
/// task (as an `AsyncStream`).
///
/// Sendable: it may be handed to the task that consumes it.
public struct RecordedEvents: AsyncSequence, Sendable {
    /// Each recorded event, with how many this subscriber missed before it.
    public typealias Element = RecordedEvent
    /// Iterating never throws: the sequence ends instead.
    public typealias Failure = Never

    private let handle: SubscriptionHandle

    init(_ subscriber: LiveEventSubscriber) {
        handle = SubscriptionHandle(subscriber)
    }

    /// The iterator (subscribed already: the sequence subscribed when it was made).
    public func makeAsyncIterator() -> Iterator {
        Iterator(sequence: handle, iteration: SubscriptionHandle(handle.subscriber))
    }

    /// Yields the subscription's events in order; nil once it ended.
    ///
    /// Not Sendable: it is used by the one task that iterates.
    public struct Iterator: AsyncIteratorProtocol {
        // The sequence's handle keeps the subscription while the sequence
        // value may be gone (`for await e in recorder.recordedEvents()`);
        // the iterator's own handle ends it when the loop is left.
        fileprivate let sequence: SubscriptionHandle
        fileprivate let iteration: SubscriptionHandle

        /// The next event, waiting for the recorder's next one if none is
        /// buffered; nil once the recorder shut down (and the buffer was
        /// consumed) or the task was cancelled.
        public mutating func next() async -> RecordedEvent? {
            await iteration.subscriber.next()
        }
    }
}

@available(*, unavailable)
extension RecordedEvents.Iterator: Sendable {}

extension Recorder {
    /// The events this recorder records from now on, for a live view (see
    /// `RecordedEvents`).
    ///
    ///     for await recorded in recorder.recordedEvents(bufferingNewest: 600) {
    ///         if recorded.missedBefore > 0 { view.noteGap(recorded.missedBefore) }
    ///         view.show(recorded.event)
    ///     }
    ///
    /// - Parameter limit: how many events the subscription holds for a slow
    ///   consumer before it drops the oldest (at least 1; default 1024, about
    ///   100 s at 10 Hz). Each subscription has its own buffer.
    /// - Returns: a subscription already taking events; after `shutdown()`,
    ///   one that has ended.
    public func recordedEvents(bufferingNewest limit: Int = 1024) -> RecordedEvents {
        RecordedEvents(recordedEventBroadcaster.subscribe(bufferingNewest: max(limit, 1)))
    }
}

/// Ends its subscription when it goes away.
final class SubscriptionHandle: Sendable {
    let subscriber: LiveEventSubscriber
    init(_ subscriber: LiveEventSubscriber) { self.subscriber = subscriber }
    deinit { subscriber.cancel() }
}

/// The recorder's side of the live view: hands each recorded event to
/// every subscriber, never waiting for one.
final class RecordedEventBroadcaster: Sendable {
    private struct State {
        var subscribers: [ObjectIdentifier: LiveEventSubscriber] = [:]
        var finished = false
    }

    private let state = Lock(State())
    /// Read at every recorded event, so that a recorder nobody watches pays
    /// one atomic load for its live view.
    private let subscriberCount = Atomic<Int>(0)

    /// Whether anyone is watching.
    var hasSubscribers: Bool { subscriberCount.load(ordering: .relaxed) > 0 }

    func subscribe(bufferingNewest limit: Int) -> LiveEventSubscriber {
        let subscriber = LiveEventSubscriber(capacity: limit, broadcaster: self)
        let finished = state.withLock { state -> Bool in
            guard !state.finished else { return true }
            state.subscribers[ObjectIdentifier(subscriber)] = subscriber
            subscriberCount.store(state.subscribers.count, ordering: .relaxed)
            return false
        }
        if finished { subscriber.finish() }
        return subscriber
    }

    func remove(_ subscriber: LiveEventSubscriber) {
        state.withLock { state in
            state.subscribers[ObjectIdentifier(subscriber)] = nil
            subscriberCount.store(state.subscribers.count, ordering: .relaxed)
        }
    }

    /// On the poller, under the recorder's lock: buffers `event` for every
    /// subscriber (a lock each, no waiting for consumers).
    func publish(_ event: Event) {
        state.withLock { state in
            for subscriber in state.subscribers.values { subscriber.offer(event) }
        }
    }

    /// The recorder shut down: every subscription ends after its buffered events.
    func finish() {
        let subscribers = state.withLock { state -> [LiveEventSubscriber] in
            state.finished = true
            defer {
                state.subscribers = [:]
                subscriberCount.store(0, ordering: .relaxed)
            }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }
}

/// One subscription: a bounded buffer that drops its oldest event when
/// full, and the consumer waiting on it.
final class LiveEventSubscriber: Sendable {
    private struct State: Sendable {
        /// Buffered events are `events[head...]` (a queue without a
        /// dependency: the consumed prefix is cut off now and then).
        var events: [Event] = []
        var head = 0
        var missed = 0
        var waiter: CheckedContinuation<RecordedEvent?, Never>?
        /// The recorder shut down: the buffer is consumed, then nil.
        var finished = false
        /// Unsubscribed: nil at once.
        var cancelled = false

        var count: Int { events.count - head }

        mutating func popFirst() -> RecordedEvent? {
            guard head < events.count else { return nil }
            let event = events[head]
            head += 1
            if head == events.count {
                events.removeAll(keepingCapacity: true)
                head = 0
            }
            defer { missed = 0 }
            return RecordedEvent(event: event, missedBefore: missed)
        }
    }

    private let capacity: Int
    private let state = Lock(State())
    private let broadcaster: RecordedEventBroadcaster

    init(capacity: Int, broadcaster: RecordedEventBroadcaster) {
        self.capacity = capacity
        self.broadcaster = broadcaster
    }

    /// Buffers `event` (dropping the oldest when full), or hands it to the
    /// waiting consumer.
    func offer(_ event: Event) {
        let handOver = state.withLock { state -> (CheckedContinuation<RecordedEvent?, Never>, missed: Int)? in
            guard !state.finished, !state.cancelled else { return nil }
            if let waiter = state.waiter {
                // A waiting consumer has an empty buffer (so `missed` is 0
                // unless that changes): the event goes straight to it.
                state.waiter = nil
                defer { state.missed = 0 }
                return (waiter, state.missed)
            }
            if state.count == capacity {
                state.head += 1
                state.missed += 1
            }
            // Keep the consumed prefix from growing without bound.
            if state.head >= capacity {
                state.events.removeFirst(state.head)
                state.head = 0
            }
            state.events.append(event)
            return nil
        }
        if let (waiter, missed) = handOver {
            waiter.resume(returning: RecordedEvent(event: event, missedBefore: missed))
        }
    }

    /// The next event, waiting for one; nil once finished and consumed, or cancelled.
    func next() async -> RecordedEvent? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<RecordedEvent?, Never>) in
                let ready = state.withLock { state -> RecordedEvent?? in
                    if state.cancelled { return .some(nil) }
                    if let event = state.popFirst() { return event }
                    if state.finished { return .some(nil) }
                    precondition(state.waiter == nil, "RecordedEvents is iterated by more than one task at once")
                    state.waiter = waiter
                    return nil
                }
                if let ready { waiter.resume(returning: ready) }
            }
        } onCancel: {
            cancel()
        }
    }

    /// The recorder shut down: the consumer gets what is buffered, then nil.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<RecordedEvent?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Unsubscribes: the consumer gets nil at once, and the recorder stops
    /// buffering for it.
    func cancel() {
        let (waiter, wasCancelled) = state.withLock { state -> (CheckedContinuation<RecordedEvent?, Never>?, Bool) in
            defer {
                state.cancelled = true
                state.waiter = nil
                state.events = []
                state.head = 0
            }
            return (state.waiter, state.cancelled)
        }
        waiter?.resume(returning: nil)
        if !wasCancelled { broadcaster.remove(self) }
    }
}
