import Dispatch
import Foundation
import SockStatRecorder

// What recording costs an app whose in-process counters change at 10 Hz:
// LABELS counters, every one of them given bytes every 100 ms (the worst
// case: each poll finds every label changed), and a Recorder with its
// default options polling them.
//
// usage: LibraryFigures recorder timed LABELS SECONDS [--no-recorder]
//          runs in real time; prints CPU seconds, peak RSS and bytes written.
//          --no-recorder runs the same counting without recording, the
//          baseline to subtract.
//        LibraryFigures recorder polls LABELS POLLS
//          no threads, no sleeping: POLLS polls on a manual clock 100 ms
//          apart, for instruction counts (callgrind: run twice, subtract).

/// Adds a few hundred bytes to every counter; the amounts vary so that the
/// deltas are not all alike (as real traffic is not).
struct Traffic {
    let counters: [ByteCounter]
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15

    mutating func tick() {
        for counter in counters {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            counter.add(sent: 40 + (state >> 33) % 1_500, received: 40 + (state >> 45) % 9_000)
        }
    }
}

func directorySize(_ path: String) -> Int {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    return names.reduce(0) { total, name in
        let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name)
        return total + ((attributes?[.size] as? Int) ?? 0)
    }
}

func recorderLoad(_ arguments: [String]) throws {
    guard arguments.count >= 3, let labels = Int(arguments[1]), let amount = Int(arguments[2]), labels > 0, amount > 0 else { usage() }
    let directory = NSTemporaryDirectory() + "recorder-load-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let counters = InProcessCounters()
    var traffic = Traffic(counters: try (0..<labels).map { try counters.counter(for: "label-\($0)") })

    switch arguments[0] {
    case "timed":
        let recording = !arguments.contains("--no-recorder")
        let recorder = recording ? try Recorder(source: counters, options: RecorderOptions(directory: directory)) : nil
        let before = ProcessUsage.now()
        recorder?.start()
        let start = DispatchTime.now().uptimeNanoseconds
        var tick: UInt64 = 0
        while true {
            tick += 1
            let due = start + tick * 100_000_000
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= start + UInt64(amount) * 1_000_000_000 { break }
            if due > now { usleep(UInt32((due - now) / 1_000)) }
            traffic.tick()
        }
        let finished = recorder?.shutdown() ?? true
        let after = ProcessUsage.now()
        var line = "labels=\(labels) seconds=\(amount) recorder=\(recording) "
            + "cpu_seconds=\(String(format: "%.3f", after.cpuSeconds - before.cpuSeconds)) peak_rss_bytes=\(after.peakRSSBytes)"
        if let metrics = recorder?.metrics {
            line += " events=\(metrics.events) bytes_on_disk=\(directorySize(directory)) write_errors=\(metrics.writeErrors) shutdown_in_time=\(finished)"
        }
        print(line)
    case "polls":
        let clock = ManualClock()
        let recorder = try Recorder(source: counters, options: RecorderOptions(directory: directory), clock: clock)
        for poll in 0..<amount {
            traffic.tick()
            let reading = ClockReading(wallMilliseconds: 1_764_288_000_000 + Int64(poll) * 100, monotonicMilliseconds: UInt64(poll) * 100)
            recorder.poll(at: reading)
        }
        _ = recorder.shutdown()
        print("labels=\(labels) polls=\(amount) events=\(recorder.metrics.events) blocks=\(recorder.metrics.blocks)")
    default:
        usage()
    }
}
