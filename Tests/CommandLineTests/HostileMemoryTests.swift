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
func convertPeakMemory(_ arguments: [String]) throws -> (status: Int32, peakKiB: Int) {
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let path = Tool.convert.path
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
        guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
    }
    let exited = status & 0x7F == 0
    return (exited ? (status >> 8) & 0xFF : -1, Int(usage.ru_maxrss))
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
