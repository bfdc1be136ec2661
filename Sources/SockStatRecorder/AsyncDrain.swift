import Dispatch
import SockStatFormat
import SockStatStore

// The async forms have names of their own, not overloads of drain(to:),
// read(to:) and export(to:): with the same name, a sink closure that
// happens not to await picks the synchronous form, which does its file
// work on the calling (cooperative) thread, silently.
extension Recorder {
    /// Streams everything recorded so far to `sink` as canonical JSON lines,
    /// one call per segment, deleting each segment only after its call
    /// returned: `drain(to:)` for async code.
    ///
    /// The file work (closing the open segment, listing, locking, reading,
    /// decoding and deleting segments) runs on a dispatch queue of its own,
    /// never on Swift's cooperative thread pool: a drain of a large backlog
    /// does not hold a pool thread while it reads and inflates. `sink` runs
    /// in the calling task, one segment at a time, while that queue waits for
    /// it. Everything else is `drain(to:)`: the same collection, the same
    /// damage and duplicate handling, the same chunks (one per segment, the
    /// bytes the synchronous sink would get).
    ///
    /// Cancellation loses nothing and delivers nothing twice. The drain
    /// looks at the task before handing over each segment: once the task is
    /// cancelled, no further segment is handed over, and the drain throws
    /// `CancellationError`; every segment not handed over stays for a later
    /// drain. A segment whose `sink` call is running when the task is
    /// cancelled is settled by what `sink` does: if it returns normally, the
    /// segment was delivered and is deleted; if it throws (a cancelled
    /// `Task.sleep` or network write throws `CancellationError`), the segment
    /// was not delivered, stays, and the next drain delivers it whole. So a
    /// sink must throw unless it has taken the whole chunk (as with the
    /// synchronous drain, a sink that has kept part of a chunk and then
    /// throws gets that part again). A task cancelled before the call
    /// throws at once, touching nothing; one cancelled after the last
    /// segment was taken changes nothing (the drain returns normally).
    ///
    /// While `sink` runs, the queue's thread waits for it (it holds the
    /// segment's lock): a slow upload holds a dispatch thread, not a pool one.
    ///
    /// - Throws: `CancellationError` as above; what `sink` throws; or what
    ///   `drain(to:)` throws.
    @discardableResult
    nonisolated(nonsending)
    public func drainAsync(to sink: ([UInt8]) async throws -> Void) async throws -> DrainSummary {
        try await handOffFileWork(sink) { recorder, deliver in
            try recorder.drain(to: { try deliver(Array($0)) })
        }
    }

    /// Streams everything recorded so far to `sink` as canonical JSON lines,
    /// one call per segment, and deletes nothing: `read(to:)` for async code.
    ///
    /// The file work runs on a dispatch queue of its own, off Swift's
    /// cooperative pool, as in `drainAsync(to:)`; `sink` runs in the
    /// calling task. Once the task is cancelled no further segment is read
    /// and the read throws `CancellationError` (it deletes nothing, so there
    /// is nothing to lose).
    ///
    /// - Throws: `CancellationError`; what `sink` throws; or what `read(to:)` throws.
    @discardableResult
    nonisolated(nonsending)
    public func readAsync(to sink: ([UInt8]) async throws -> Void) async throws -> DrainSummary {
        try await handOffFileWork(sink) { recorder, deliver in
            try recorder.read(to: { try deliver(Array($0)) })
        }
    }

    /// Hands everything recorded so far to `sink` as segment bytes, one call
    /// per closed segment, oldest first, deleting each only after its call
    /// returned: `export(to:)` for async code.
    ///
    /// The file work runs on a dispatch queue of its own, off Swift's
    /// cooperative pool; `sink` runs in the calling task, one segment at a
    /// time (an upload may take as long as it needs: the queue waits, the
    /// pool is free). Cancellation is as for `drainAsync(to:)`: no
    /// segment is handed over after the task is cancelled (the export then
    /// throws `CancellationError`); a segment whose `sink` call was running
    /// is deleted if `sink` returned normally and kept, to be exported
    /// again whole, if it threw. No segment is lost; none is exported twice
    /// unless a sink that threw had in fact kept it.
    ///
    /// - Throws: `CancellationError` as above; what `sink` throws; or what
    ///   `export(to:)` throws.
    @discardableResult
    nonisolated(nonsending)
    public func exportAsync(to sink: (ExportedSegment) async throws -> Void) async throws -> DrainSummary {
        try await handOffFileWork(sink) { recorder, deliver in
            try recorder.export(to: deliver)
        }
    }

    /// Runs `work` (a synchronous drain, read or export) on a new serial
    /// dispatch queue, and gives each item it delivers to `sink` in the
    /// calling task: `work`'s delivery returns when `sink` has, or throws
    /// what `sink` threw, or `CancellationError` once the task is cancelled,
    /// so the synchronous collection decides what to delete exactly as it
    /// does for a synchronous sink (one collecting loop).
    nonisolated(nonsending)
    private func handOffFileWork<Item: Sendable>(
        _ sink: (Item) async throws -> Void,
        work: @escaping @Sendable (Recorder, _ deliver: (Item) throws -> Void) throws -> DrainSummary
    ) async throws -> DrainSummary {
        try Task.checkCancellation()
        let handoff = FileWorkHandoff<Item>()
        // A queue per call, not a shared one: a sink that itself awaits
        // another drain of this recorder must not wait behind its own.
        let queue = DispatchQueue(label: "sockstatlog.file-work")
        queue.setSpecific(key: FileWorkQueue.key, value: true)
        queue.async { [self] in
            let result = Result<DrainSummary, any Error> { try work(self, handoff.deliver) }
            handoff.post(.finished(result))
        }
        while true {
            switch await handoff.next() {
            case .item(let item):
                guard !Task.isCancelled else {
                    handoff.reply(CancellationError())
                    continue
                }
                do {
                    try await sink(item)
                    handoff.reply(nil)
                } catch {
                    handoff.reply(error)
                }
            case .finished(let result):
                return try result.get()
            }
        }
    }
}

/// Marks the queues the async forms' file work runs on, so that tests can
/// see where it ran.
enum FileWorkQueue {
    static let key = DispatchSpecificKey<Bool>()

    /// Whether the caller runs on one of those queues.
    static var isCurrent: Bool { DispatchQueue.getSpecific(key: key) == true }
}

/// Carries items from a synchronous delivery on a dispatch queue to an
/// async consumer, one at a time, and the consumer's verdict back.
///
/// The queue's thread waits on a semaphore while the consumer's sink runs:
/// that blocks a dispatch thread (made for it), never a cooperative one.
final class FileWorkHandoff<Item: Sendable>: Sendable {
    /// What the queue hands over next.
    enum Step: Sendable {
        /// An item for the sink; the queue waits for `reply`.
        case item(Item)
        /// The work ended (the last step).
        case finished(Result<DrainSummary, any Error>)
    }

    private struct Mailbox: Sendable {
        /// A step posted before the consumer asked for it (at most one: the
        /// queue waits for a reply after each item, and `finished` is last).
        var step: Step?
        /// The consumer, waiting for a step.
        var taker: CheckedContinuation<Step, Never>?
    }

    private let mailbox = Lock(Mailbox())
    private let verdict = Lock<(any Error)?>(nil)
    private let replied = DispatchSemaphore(value: 0)

    /// On the queue: hands `item` to the consumer and waits for its verdict.
    func deliver(_ item: Item) throws {
        post(.item(item))
        replied.wait()
        if let error = verdict.withLock({ $0.take() }) { throw error }
    }

    /// On the queue: posts a step, waking the consumer if it waits.
    func post(_ step: Step) {
        let taker = mailbox.withLock { mailbox -> CheckedContinuation<Step, Never>? in
            if let taker = mailbox.taker {
                mailbox.taker = nil
                return taker
            }
            mailbox.step = step
            return nil
        }
        taker?.resume(returning: step)
    }

    /// In the consumer: the next step. Not cancellable on purpose: the
    /// queue's work between two items is short (one segment's file work),
    /// and the consumer must see `finished` to know what was delivered.
    func next() async -> Step {
        await withCheckedContinuation { (taker: CheckedContinuation<Step, Never>) in
            let ready = mailbox.withLock { mailbox -> Step? in
                if let step = mailbox.step {
                    mailbox.step = nil
                    return step
                }
                mailbox.taker = taker
                return nil
            }
            if let ready { taker.resume(returning: ready) }
        }
    }

    /// In the consumer: the verdict on the last item (nil: the sink took it).
    func reply(_ error: (any Error)?) {
        verdict.withLock { $0 = error }
        replied.signal()
    }
}
