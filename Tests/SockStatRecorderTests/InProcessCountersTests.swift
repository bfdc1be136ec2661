#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SockStatFormat
import Synchronization
import Testing
@testable import SockStatRecorder

/// The values of `snapshot` by label text, for comparisons.
private func values(_ snapshot: CounterSnapshot) -> [String: [UInt64]] {
    var result: [String: [UInt64]] = [:]
    for index in 0..<snapshot.count {
        result[snapshot.labels[index].description] = [snapshot.tx[index], snapshot.rx[index]]
    }
    return result
}

/// The work one thread runs, handed to pthread_create.
private final class ThreadWork: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) {
        self.run = run
    }
}

/// Runs `body(0..<count)` on `count` threads of their own, all at once (a
/// dispatch pool would run only as many as there are cores), and waits for
/// them all.
private func onThreads(_ count: Int, _ body: @Sendable (Int) -> Void) {
    // Safe: every thread is joined before this function returns.
    withoutActuallyEscaping(body) { body in
        var threads: [pthread_t] = []
        for index in 0..<count {
            let work = Unmanaged.passRetained(ThreadWork { body(index) }).toOpaque()
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { raw in
                Unmanaged<ThreadWork>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            }, work)
            precondition(created == 0, "pthread_create failed")
            threads.append(thread)
        }
        for thread in threads {
            pthread_join(thread, nil)
        }
    }
}

struct InProcessCountersTests {
    static let threads = 8
    static let addsPerThread = 100_000
    static let labels = ["dns", "derp", "magicsock", "peerapi"]

    /// The size of add `index` of `thread`: varied, including zero and large.
    static func size(thread: Int, index: Int) -> (sent: UInt64, received: UInt64) {
        (UInt64((index &* 31 &+ thread) % 1_500), UInt64((index % 7 == 0) ? 65_536 : (index + thread * 3) % 97))
    }

    /// The label of add `index`: the same for every thread, so that threads
    /// contend on the same counters.
    static func label(index: Int) -> String {
        labels[(index / 16) % labels.count]
    }

    @Test func concurrentAddsFromManyThreadsGiveExactTotals() {
        let source = InProcessCounters()
        onThreads(Self.threads) { thread in
            // Each thread looks its counters up itself, so the first ones are
            // created concurrently from several threads.
            var counters: [String: ByteCounter] = [:]
            for index in 0..<Self.addsPerThread {
                let name = Self.label(index: index)
                let counter: ByteCounter
                if index % 1_000 == 0 || counters[name] == nil {
                    counter = try! source.counter(for: name)
                    counters[name] = counter
                } else {
                    counter = counters[name]!
                }
                let (sent, received) = Self.size(thread: thread, index: index)
                counter.add(sent: sent, received: received)
            }
        }
        var expected: [String: [UInt64]] = [:]
        for thread in 0..<Self.threads {
            for index in 0..<Self.addsPerThread {
                let (sent, received) = Self.size(thread: thread, index: index)
                let total = expected[Self.label(index: index), default: [0, 0]]
                expected[Self.label(index: index)] = [total[0] + sent, total[1] + received]
            }
        }
        var snapshot = CounterSnapshot()
        source.read(into: &snapshot)
        #expect(snapshot.count == Self.labels.count)
        #expect(values(snapshot) == expected)
    }

    @Test func concurrentFirstUseOfOneLabelCreatesOneCounter() {
        let source = InProcessCounters()
        let seen = Lock<[ObjectIdentifier]>([])
        onThreads(16) { _ in
            let counter = try! source.counter(for: "shared")
            counter.add(sent: 1)
            seen.withLock { $0.append(ObjectIdentifier(counter)) }
        }
        let identities = seen.withLock { Set($0) }
        #expect(identities.count == 1)
        var snapshot = CounterSnapshot()
        source.read(into: &snapshot)
        #expect(snapshot.labels == [Label("shared")])
        #expect(snapshot.tx == [16])
    }

    @Test func theSameLabelGivesTheSameCounterObject() throws {
        let source = InProcessCounters()
        let first = try source.counter(for: "dns")
        #expect(try source.counter(for: "dns") === first)
        #expect(try source.counter(for: Label("dns")) === first)
        #expect(try source.counter(for: Label(bytes: Array("dns".utf8))) === first)
        #expect(try source.counter(for: "derp") !== first)
        #expect(first.label == Label("dns"))
    }

    @Test func readsWhileAddingAreMonotonicPerCounter() {
        let source = InProcessCounters()
        let names = ["a", "b", "c"]
        let writers = 4
        let addsPerWriter = 50_000
        let done = Atomic<Int>(0)
        let violations = Atomic<Int>(0)
        let reads = Atomic<Int>(0)
        onThreads(writers + 1) { worker in
            if worker == writers {
                // The reader: polls until every writer has finished, then once more.
                var snapshot = CounterSnapshot()
                var last: [String: [UInt64]] = [:]
                var finished = false
                while !finished {
                    finished = done.load(ordering: .acquiring) == writers
                    source.read(into: &snapshot)
                    let now = values(snapshot)
                    for (name, previous) in last {
                        guard let current = now[name], current[0] >= previous[0], current[1] >= previous[1] else {
                            violations.wrappingAdd(1, ordering: .relaxed)
                            continue
                        }
                    }
                    last = now
                    reads.wrappingAdd(1, ordering: .relaxed)
                }
                return
            }
            for index in 0..<addsPerWriter {
                try! source.counter(for: names[index % names.count]).add(sent: UInt64(index % 13), received: 3)
            }
            done.wrappingAdd(1, ordering: .releasing)
        }
        #expect(violations.load(ordering: .relaxed) == 0)
        #expect(reads.load(ordering: .relaxed) >= 1)
        var snapshot = CounterSnapshot()
        source.read(into: &snapshot)
        let total = values(snapshot)
        var expected: [String: [UInt64]] = [:]
        for index in 0..<addsPerWriter {
            let total = expected[names[index % names.count], default: [0, 0]]
            expected[names[index % names.count]] = [total[0] + UInt64(index % 13) * UInt64(writers), total[1] + 3 * UInt64(writers)]
        }
        #expect(total == expected)
    }

    @Test func readListsCountersInCreationOrderAndReplacesTheSnapshot() throws {
        let source = InProcessCounters()
        try source.counter(for: "zeta").add(sent: 1, received: 2)
        try source.counter(for: "alpha").add(received: 5)
        _ = try source.counter(for: "mid")
        try source.counter(for: "zeta").add(sent: 10)
        var snapshot = CounterSnapshot()
        snapshot.append(Label("stale"), tx: 99, rx: 99)
        snapshot.isCellular = true
        source.read(into: &snapshot)
        #expect(snapshot.labels == [Label("zeta"), Label("alpha"), Label("mid")])
        #expect(snapshot.tx == [11, 0, 0])
        #expect(snapshot.rx == [2, 5, 0])
        #expect(snapshot.isCellular == false)
    }

    @Test func readReusesTheCountersOwnLabelStorage() throws {
        let source = InProcessCounters()
        let counter = try source.counter(for: "dns")
        var snapshot = CounterSnapshot()
        source.read(into: &snapshot)
        source.read(into: &snapshot)
        let original = counter.label.bytes.withUnsafeBufferPointer { $0.baseAddress }
        let read = snapshot.labels[0].bytes.withUnsafeBufferPointer { $0.baseAddress }
        #expect(original == read)
    }

    @Test func isCellularRoundTripsAndReachesTheSnapshot() {
        let source = InProcessCounters()
        var snapshot = CounterSnapshot()
        #expect(source.isCellular == false)
        source.isCellular = true
        #expect(source.isCellular == true)
        source.read(into: &snapshot)
        #expect(snapshot.isCellular == true)
        source.isCellular = false
        #expect(source.isCellular == false)
        source.read(into: &snapshot)
        #expect(snapshot.isCellular == false)
    }

    @Test func addWrapsAtUInt64MaxInsteadOfTrapping() throws {
        let counter = try InProcessCounters().counter(for: "big")
        counter.add(sent: .max, received: .max - 1)
        counter.add(sent: 2, received: 1)
        #expect(counter.sent == 1)
        #expect(counter.received == .max)
    }
}
