import Foundation
import SockStatFormat
import SockStatStore
import Testing

/// `sockstat-convert export`: closed segments shipped as their bytes.
struct ExportCommandTests {
    /// Two hours of the reference workload encoded into many small segments.
    func encodedWorkload() throws -> URL {
        let directory = try Tool.temporaryDirectory()
        let lines = directory.appendingPathComponent("workload.jsonl")
        try Workload.lines(hours: 2, seed: 1).write(to: lines)
        let source = directory.appendingPathComponent("logs")
        let run = try Tool.run(["encode", "-i", lines.path, "-o", source.path, "--max-segment-bytes", "8192"])
        try #require(run.exitCode == 0, "\(run.stderrText)")
        return directory
    }

    func segmentNames(_ directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    @Test func aStreamOnStandardOutputDecodesAsTheDirectoryDid() throws {
        let root = try encodedWorkload()
        defer { try? FileManager.default.removeItem(at: root) }
        let source = root.appendingPathComponent("logs")
        let original = try Tool.run(["decode", source.path])
        try #require(original.exitCode == 0)
        let names = try segmentNames(source)
        #expect(names.count > 3)
        var sizes = 0
        for name in names { sizes += try Data(contentsOf: source.appendingPathComponent(name)).count }

        let export = try Tool.run(["export", source.path, "-o", "-"])
        #expect(export.exitCode == 0, "\(export.stderrText)")
        #expect(export.stdout.count == sizes, "the segments' bytes, nothing added")
        #expect(try segmentNames(source).isEmpty)
        let back = try Tool.run(["decode", "-"], stdin: export.stdout)
        #expect(back.exitCode == 0, "\(back.stderrText)")
        #expect(back.stdout == original.stdout)
        // The same stream catenated twice is read once: the copies are duplicates.
        let twice = try Tool.run(["decode", "-"], stdin: export.stdout + export.stdout)
        #expect(twice.exitCode == 1)
        #expect(twice.stdout == original.stdout)
        #expect(twice.stderrText.split(separator: "\n").filter { $0.contains("already read from") }.count == names.count)
    }

    @Test func intoADirectoryEachSegmentMovesWholeUnderItsName() throws {
        let root = try encodedWorkload()
        defer { try? FileManager.default.removeItem(at: root) }
        let source = root.appendingPathComponent("logs")
        let target = root.appendingPathComponent("shipped")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        let names = try segmentNames(source)
        var bytes: [String: Data] = [:]
        for name in names { bytes[name] = try Data(contentsOf: source.appendingPathComponent(name)) }
        let original = try Tool.run(["decode", source.path])

        // A segment an earlier export moved but did not delete (it stopped in between).
        try FileManager.default.copyItem(at: source.appendingPathComponent(names[0]), to: target.appendingPathComponent(names[0]))
        let export = try Tool.run(["export", source.path, "--to", target.path])
        #expect(export.exitCode == 0, "\(export.stderrText)")
        #expect(export.stdout.isEmpty)
        #expect(try segmentNames(source).isEmpty)
        #expect(try segmentNames(target) == names, "no temporary file left")
        for name in names { #expect(try Data(contentsOf: target.appendingPathComponent(name)) == bytes[name]) }
        #expect(try Tool.run(["decode", target.path]).stdout == original.stdout)
    }

    @Test func aSinkThatFailsMidwayLosesNothingAndShipsNothingTwice() throws {
        let root = try encodedWorkload()
        defer { try? FileManager.default.removeItem(at: root) }
        let source = root.appendingPathComponent("logs")
        let target = root.appendingPathComponent("shipped")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        let names = try segmentNames(source)
        let original = try Tool.run(["decode", source.path])

        // Standard output that refuses every write: nothing is deleted.
        let full = try Tool.run(["-c", "\"$0\" export \"$1\" -o - > /dev/full", Tool.convert.path, source.path],
                                executable: URL(fileURLWithPath: "/bin/sh"))
        #expect(full.exitCode == 74, "\(full.stderrText)")
        #expect(try segmentNames(source) == names)

        // The third segment's name is taken by other bytes: the export stops there.
        let conflict = target.appendingPathComponent(names[2])
        try Data("not this segment".utf8).write(to: conflict)
        let first = try Tool.run(["export", source.path, "--to", target.path])
        #expect(first.exitCode == 73)
        #expect(first.stderrText.contains(names[2]))
        #expect(try segmentNames(source) == Array(names[2...]))
        try FileManager.default.removeItem(at: conflict)
        let second = try Tool.run(["export", source.path, "--to", target.path])
        #expect(second.exitCode == 0, "\(second.stderrText)")
        #expect(try segmentNames(source).isEmpty)
        #expect(try segmentNames(target) == names)
        #expect(try Tool.run(["decode", target.path]).stdout == original.stdout)
    }

    @Test func theOpenSegmentIsNeverTaken() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = try LiveSegmentLog(in: directory)
        try log.record(3000)
        let open = try #require(log.writer.openSegmentPath)
        let first = try Tool.run(["export", directory.path, "-o", "-"])
        #expect(first.exitCode == 0, "\(first.stderrText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [URL(fileURLWithPath: open).lastPathComponent])
        try log.record(500)
        try log.writer.close()
        let second = try Tool.run(["export", directory.path, "-o", "-"])
        #expect(second.exitCode == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        let back = try Tool.run(["decode", "-"], stdin: first.stdout + second.stdout)
        #expect(back.exitCode == 0, "\(back.stderrText)")
        #expect(back.stdout == log.expected)
    }

    @Test func aDamagedSegmentIsShippedAsItIsAndSetAside() throws {
        let directory = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = Tool.fixtures.appendingPathComponent("flipped-block-payload")
        let name = "sockstat-00000000000000000001.sslog"
        try FileManager.default.copyItem(at: fixture.appendingPathComponent("input.sslog"), to: directory.appendingPathComponent(name))
        let run = try Tool.run(["export", directory.path, "-o", "-"])
        #expect(run.exitCode == 1)
        #expect(run.stdout == (try Data(contentsOf: fixture.appendingPathComponent("input.sslog"))))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [name + ".damaged"])
        let back = try Tool.run(["decode", "-"], stdin: run.stdout)
        #expect(back.exitCode == 1)
        #expect(back.stdout == (try Data(contentsOf: fixture.appendingPathComponent("expected.jsonl"))))
        #expect(try Tool.run(["export", directory.path, "-o", "-"]).stdout.isEmpty, "nothing shipped twice")
    }

    @Test(arguments: [
        ["export"], ["export", "."], ["export", ".", "-o", "x"], ["export", ".", "-o", "-", "--to", "."],
        ["export", "/nonexistent", "-o", "-"], ["export", ".", "--to", "."],
    ])
    func badArgumentsAreUsageErrors(_ arguments: [String]) throws {
        #expect(try Tool.run(arguments).exitCode == 64)
    }

    @Test func exportingADirectoryIntoItselfIsRefused() throws {
        let root = try encodedWorkload()
        defer { try? FileManager.default.removeItem(at: root) }
        let source = root.appendingPathComponent("logs")
        let names = try segmentNames(source)
        // The same directory by another name.
        let run = try Tool.run(["export", source.path, "--to", root.path + "/./logs/"])
        #expect(run.exitCode == 64)
        #expect(try segmentNames(source) == names)
    }
}
