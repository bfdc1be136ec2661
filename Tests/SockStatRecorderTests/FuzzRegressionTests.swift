#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Testing

/// Replays kept fuzz inputs through the checks of their libFuzzer target
/// (`FuzzChecks.swift`, the same file the Fuzz package compiles), so every
/// input that once failed keeps being checked in CI: Fuzz/crashes/<target>/,
/// the committed seed corpus Fuzz/seeds/<target>/, and the fixtures the
/// corpora are seeded from. Here in the recorder tests because the checks
/// reach the store's decoder and the replay source.
///
/// Serialized: the checks are heavy (each input read four ways, one of them
/// building 256 KiB of forged frames), and 400 cases at once take every
/// thread of the pool, so the recorder tests' shutdowns, which finish on a
/// global queue within one second, missed it on a one-core run.
@Suite(.serialized) struct FuzzRegressionTests {
    static let segmentReaderInputs = inputs(for: "segment-reader", fixturesEndingIn: ".sslog")
    static let jsonLinesInputs = inputs(for: "json-lines", fixturesEndingIn: ".jsonl")

    @Test(arguments: segmentReaderInputs)
    func segmentReaderInputKeepsTheFuzzProperties(_ path: String) throws {
        let bytes = try #require(readWholeFile(repositoryRoot + "/" + path), "cannot read \(path)")
        try SegmentReaderChecks().check(bytes)
    }

    @Test(arguments: jsonLinesInputs)
    func jsonLinesInputKeepsTheFuzzProperties(_ path: String) throws {
        let bytes = try #require(readWholeFile(repositoryRoot + "/" + path), "cannot read \(path)")
        try JSONLinesChecks().check(bytes)
    }

    /// The parameterized tests would pass vacuously on a moved or emptied corpus.
    @Test func seedCorporaAreFoundForBothTargets() {
        for target in ["segment-reader", "json-lines"] {
            #expect(!files(under: repositoryRoot + "/Fuzz/seeds/" + target).isEmpty, "no seeds for \(target)")
        }
        #expect(Self.segmentReaderInputs.count > 40)
        #expect(Self.jsonLinesInputs.count > 40)
    }

    /// The reader checks see what `sockstat-convert decode` prints: they are
    /// not vacuous on real segments.
    @Test(arguments: ["several-blocks", "flipped-block-payload", "torn-mid-payload", "unicode-labels"])
    func readerChecksReadFixturesAsDecodeDoes(_ name: String) throws {
        let input = try #require(readWholeFile(repositoryRoot + "/Fixtures/\(name)/input.sslog"))
        let expected = try #require(readWholeFile(repositoryRoot + "/Fixtures/\(name)/expected.jsonl"))
        let outcome = try SegmentReaderChecks().read(input)
        #expect(outcome.openError == nil)
        #expect(outcome.json == expected)
        #expect(outcome.events > 0)
    }
}

// MARK: - Files

private let repositoryRoot: String = {
    // #filePath is <root>/Tests/SockStatRecorderTests/FuzzRegressionTests.swift.
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// Paths, relative to the repository root and sorted, of the target's crash
/// inputs and seeds and of the fixtures with the given suffix.
private func inputs(for target: String, fixturesEndingIn suffix: String) -> [String] {
    let kept = files(under: repositoryRoot + "/Fuzz/crashes/" + target) + files(under: repositoryRoot + "/Fuzz/seeds/" + target)
    let fixtures = files(under: repositoryRoot + "/Fixtures").filter { $0.hasSuffix(suffix) }
    return (kept + fixtures).map { String($0.dropFirst(repositoryRoot.count + 1)) }.sorted()
}

/// Every regular file under `directory`, recursively; dot files left out.
private func files(under directory: String) -> [String] {
    guard let handle = opendir(directory) else { return [] }
    defer { closedir(handle) }
    var found: [String] = []
    while let entry = readdir(handle) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        guard !name.hasPrefix(".") else { continue }
        let path = directory + "/" + name
        var info = stat()
        guard stat(path, &info) == 0 else { continue }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            found += files(under: path)
        } else if (info.st_mode & S_IFMT) == S_IFREG {
            found.append(path)
        }
    }
    return found
}
