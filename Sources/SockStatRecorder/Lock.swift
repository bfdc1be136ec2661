#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a pthread mutex.
///
/// Used instead of `Synchronization.Mutex` because thread sanitizer sees
/// pthread locking but not Mutex's futex on Linux, and reports every access
/// under a Mutex as a race; with this lock a `--sanitize thread` run reports
/// only real ones.
package final class Lock<Value> {
    // The run-time exclusivity check is redundant here (the mutex already
    // excludes) and cost 6.5% of a replay's instructions, at several locks
    // a poll (1 h of the reference workload, 142.4 M against 133.7 M,
    // callgrind).
    @exclusivity(unchecked) private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// Creates a lock around `value`, which it owns from now on.
    package init(_ value: sending Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the lock.
    package func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

// @unchecked: `value` is only ever touched inside `withLock`, between
// pthread_mutex_lock and pthread_mutex_unlock, so the box is as safe to share
// as its value is (swift-nio's NIOLockedValueBox makes the same promise).
extension Lock: @unchecked Sendable where Value: Sendable {}
