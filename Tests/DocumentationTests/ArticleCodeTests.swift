import Foundation
import Testing

/// The DocC catalogs' articles show code that this target compiles and runs:
/// every ```swift block of every article must appear, line for line (leading
/// and trailing spaces aside), in one of this target's sources, its `import`
/// lines among that file's imports. Changing an article's code without the
/// code here (or the other way round) fails this test.
@Suite struct ArticleCodeTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let catalogs = ["Sources/SockStatRecorder/SockStatRecorder.docc", "Sources/SockStatNIO/SockStatNIO.docc"]

    /// The Swift blocks of one article, each with the line it starts on.
    static func swiftBlocks(of article: String) -> [(line: Int, lines: [String])] {
        var blocks: [(line: Int, lines: [String])] = []
        var current: (line: Int, lines: [String])?
        for (number, line) in article.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current != nil {
                if trimmed == "```" {
                    blocks.append(current!)
                    current = nil
                } else {
                    current!.lines.append(trimmed)
                }
            } else if trimmed == "```swift" {
                current = (number + 1, [])
            }
        }
        return blocks
    }

    static func articles() throws -> [String] {
        var paths: [String] = []
        for catalog in catalogs {
            let directory = repository.appendingPathComponent(catalog)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            where name.hasSuffix(".md") {
                paths.append("\(catalog)/\(name)")
            }
        }
        return paths
    }

    static func sources() throws -> [(name: String, lines: [String])] {
        let directory = repository.appendingPathComponent("Tests/DocumentationTests")
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            .filter { $0.hasSuffix(".swift") }
            .map { name in
                let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
                return (name, text.split(separator: "\n", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) })
            }
    }

    /// Whether `block` is in `source`: its imports anywhere, the rest as one run of lines.
    static func contains(_ source: [String], _ block: [String]) -> Bool {
        let imports = block.filter { $0.hasPrefix("import ") }
        var code = block.filter { !$0.hasPrefix("import ") }
        while code.first == "" { code.removeFirst() }
        guard imports.allSatisfy(source.contains) else { return false }
        guard !code.isEmpty else { return true }
        guard code.count <= source.count else { return false }
        return (0...(source.count - code.count)).contains { start in
            source[start..<(start + code.count)].elementsEqual(code)
        }
    }

    @Test func everyArticleHasItsCodeHere() throws {
        let articles = try Self.articles()
        // Both catalogs have articles with code: an empty list means the paths are wrong.
        #expect(articles.count >= 4)
        let sources = try Self.sources()
        var blocks = 0
        for article in articles {
            let text = try String(contentsOf: Self.repository.appendingPathComponent(article), encoding: .utf8)
            for block in Self.swiftBlocks(of: text) {
                blocks += 1
                #expect(sources.contains { Self.contains($0.lines, block.lines) },
                        "\(article):\(block.line): this code block is in no source of Tests/DocumentationTests")
            }
        }
        #expect(blocks >= 10)
    }

    @Test func aBlockThatIsNotHereIsFound() {
        let source = ["import NIOCore", "func f() {", "let a = 1", "let b = 2", "}"]
        #expect(Self.contains(source, ["import NIOCore", "", "let a = 1", "let b = 2"]))
        #expect(!Self.contains(source, ["let a = 1", "let c = 2"]))
        #expect(!Self.contains(source, ["import NIOPosix", "let a = 1"]))
        #expect(Self.swiftBlocks(of: "text\n```swift\n  let a = 1\n```\n```shell\nls\n```\n").map(\.lines) == [["let a = 1"]])
    }
}
