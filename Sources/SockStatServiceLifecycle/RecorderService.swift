#if ServiceLifecycle
import Dispatch
import ServiceLifecycle
import SockStatRecorder

/// A `Recorder` as a swift-service-lifecycle `Service`: `run()` starts it,
/// records until graceful shutdown (or until its task is cancelled), then
/// shuts it down: a last poll, the final flush, the segment closed, within
/// `RecorderOptions.shutdownTimeoutMilliseconds`.
///
///     let recorder = try Recorder(source: counters, options: RecorderOptions(directory: path))
///     let group = ServiceGroup(
///         services: [RecorderService(recorder), server],
///         gracefulShutdownSignals: [.sigterm, .sigint],
///         logger: logger)
///     try await group.run()
///
/// Nothing counted is lost: `start()` takes the baseline before recording
/// (an `InProcessCounters` starts from zero), and the last poll at shutdown
/// records what was counted since the previous one. List the recorder
/// before the services whose bytes it counts: a `ServiceGroup` shuts its
/// services down in reverse order, one after the other, so the recorder's
/// last poll then comes after they have stopped counting.
///
/// The recorder is shut down for good when `run()` returns (`Recorder` is
/// terminal after `shutdown()`); draining or exporting it afterwards
/// delivers everything recorded.
///
/// Sendable: it holds only the recorder, which is Sendable.
public struct RecorderService: Service, CustomStringConvertible {
    /// The recorder this service runs.
    public let recorder: Recorder

    /// A service that runs `recorder`.
    ///
    /// - Parameter recorder: a recorder not yet shut down; `run()` starts it.
    public init(_ recorder: Recorder) {
        self.recorder = recorder
    }

    public var description: String { "RecorderService(\(recorder.options.directory))" }

    /// Starts the recorder, records until graceful shutdown is triggered or
    /// the task is cancelled, then shuts the recorder down.
    ///
    /// Cancellation loses nothing: a cancelled `run()` shuts the recorder
    /// down just as a graceful shutdown does, and returns normally once it
    /// has.
    ///
    /// - Throws: `RecorderServiceError` (`.shutdownTimedOut`) when the last
    ///   poll and final write had not finished within
    ///   `shutdownTimeoutMilliseconds` (the write goes on; a slow disk);
    ///   (`.alreadyShutDown`) at once, when the recorder was shut down before
    ///   `run()`.
    public func run() async throws {
        guard !recorder.isShutDown else {
            throw RecorderServiceError(.alreadyShutDown, directory: recorder.options.directory,
                                       "the recorder was shut down before the service ran; it records nothing")
        }
        recorder.start()
        // Returns at graceful shutdown, throws CancellationError when the
        // task is cancelled: either way the recorder is shut down next.
        try? await gracefulShutdown()
        let finished = await shutDownOffTheCooperativePool()
        guard finished else {
            throw RecorderServiceError(.shutdownTimedOut, directory: recorder.options.directory,
                                       "the recorder's last poll and final write had not finished within \(recorder.options.shutdownTimeoutMilliseconds) ms (they go on)")
        }
    }

    /// `Recorder.shutdown()` blocks its thread for up to the shutdown bound
    /// while the poller writes: not on a thread of the cooperative pool.
    private func shutDownOffTheCooperativePool() async -> Bool {
        let recorder = recorder
        return await withCheckedContinuation { continuation in
            // Its own queue, not a global one, which runs only as many work
            // items as there are cores: there, under load, shutdown() could
            // start after its bound had passed.
            DispatchQueue(label: "sockstatlog.service-shutdown", qos: .utility).async {
                continuation.resume(returning: recorder.shutdown())
            }
        }
    }
}

/// Why a `RecorderService` stopped with an error.
public struct RecorderServiceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The last poll and final write did not finish within
        /// `RecorderOptions.shutdownTimeoutMilliseconds`. They go on: what
        /// they write is not lost unless the process exits first.
        public static let shutdownTimedOut = Code("shutdown timed out")
        /// The recorder had been shut down before the service ran.
        public static let alreadyShutDown = Code("already shut down")

        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// The recorder's directory.
    public var directory: String
    /// A one-line explanation.
    public var reason: String

    init(_ code: Code, directory: String, _ reason: String) {
        self.code = code
        self.directory = directory
        self.reason = reason
    }

    public var description: String { "sockstatlog: \(directory): \(reason)" }
}
#endif
