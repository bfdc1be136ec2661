import Foundation
import SockStatFormat
import Testing
#if canImport(Glibc)
import Glibc
#endif

// The memory bound of Spec/GUARANTEES.md, measured: `sockstat-convert` in a
// child process reads the worst block the limits allow for memory, a 4 MiB
// payload of 2 097 148 empty events (2 bytes each; 4 KiB stored), and its
// peak resident size is compared with reading a one-event segment.

/// Runs `sockstat-convert arguments` with its output thrown away; its exit
/// status and peak resident set size (KiB), from wait4.
///
/// Through a small python3 that forks and execs it: a child the test
/// runner spawned itself would report the runner's own peak (Linux records
/// the old address space's high-water mark at exec, and posix_spawn's child
/// shares the runner's until then), hundreds of MB in a full test run.
func convertPeakMemory(_ arguments: [String]) throws -> (status: Int32, peakKiB: Int) {
    let script = """
        import os, sys
        pid = os.fork()
        if pid == 0:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execv(sys.argv[1], sys.argv[1:])
        _, status, usage = os.wait4(pid, 0)
        print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
        """
    let run = try Tool.run(["python3", "-c", script, Tool.convert.path] + arguments,
                           executable: URL(fileURLWithPath: "/usr/bin/env"))
    let fields = String(decoding: run.stdout, as: UTF8.self).split(whereSeparator: \.isWhitespace)
    guard run.exitCode == 0, fields.count == 2, let status = Int32(fields[0]), let peak = Int(fields[1]) else {
        throw POSIXError(.EINVAL)
    }
    return (status, peak)
}

struct HostileMemoryTests {
    /// A segment whose one block is `events` empty adjacent events.
    static func segmentOfEmptyEvents(_ events: Int) -> [UInt8] {
        var payload: [UInt8] = []
        Varint.append(1, to: &payload)                        // segment sequence
        Varint.append(0, to: &payload)                        // block index
        Varint.append(ZigZag.encode(1_764_288_000_000), to: &payload)
        // Record after record `0C 00`: type 4 (adjacent event), length 1, duration delta 0.
        var records: [UInt8] = [0x0C, 0x00]
        while records.count < 2 * events { records += records }  // doubling: a few copies, not a loop per event
        payload += records.prefix(2 * events)
        var stored: [UInt8] = []
        payload.withUnsafeBytes { Deflater().compress($0, appendingTo: &stored) }
        var segment = SegmentHeader(sequence: 1, creationTime: 0).encoded()
        stored.withUnsafeBytes { BlockFrame.append(stored: $0, to: &segment) }
        return segment
    }

    @Test func theWorstBlockForMemoryStaysWithinTheBound() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The most events a 4 MiB payload holds: all of it but the 8-byte preamble, 2 bytes each.
        let preamble = 1 + 1 + Varint.encodedSize(ZigZag.encode(1_764_288_000_000))
        let events = (FormatLimits.maxBlockBytes - preamble) / 2
        let worst = directory.appendingPathComponent("worst.sslog")
        try Data(Self.segmentOfEmptyEvents(events)).write(to: worst)
        let small = directory.appendingPathComponent("small.sslog")
        try Data(Self.segmentOfEmptyEvents(1)).write(to: small)
        #expect(try Data(contentsOf: worst).count < 8_192, "4 KiB on disk")

        // --until 1 keeps no event: the decoding is measured, not 44 MB of JSON lines.
        let baseline = try convertPeakMemory(["decode", "--until", "1", small.path])
        let measured = try convertPeakMemory(["decode", "--until", "1", worst.path])
        // Exit 0: the block decoded whole, no damage.
        #expect(baseline.status == 0 && measured.status == 0)
        // The bound: the inflated payload (4 MiB + 1) and the event columns,
        // 21 bytes an event, at most doubled by array growth; 8 MiB of slack
        // for the allocator and the stack.
        let boundKiB = (FormatLimits.maxBlockBytes + 1 + 2 * 21 * events + (8 << 20)) / 1024
        let grewKiB = measured.peakKiB - baseline.peakKiB
        #expect(grewKiB <= boundKiB, "reading the block took \(grewKiB) KiB more than a one-event segment; bound \(boundKiB) KiB")
    }
}
