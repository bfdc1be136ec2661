import Foundation

/// Go's own `encoding/json`, built from `Tests/GoOracle` and run over lines:
/// the yardstick for what a sockstat JSON line means.
///
/// Go 1.25 and later ship two implementations behind the one API (the
/// classic one, and one on `encoding/json/v2`, the default from Go 1.27);
/// both are built where the toolchain has both, and a line must mean the
/// same to each.
enum GoOracle {
    /// What one build of the Go program made of one line.
    struct Answer: Sendable, Equatable {
        /// Whether `json.Unmarshal` returned no error.
        var succeeded: Bool
        /// `json.Marshal` of the struct `json.Unmarshal` filled.
        var marshalled: [UInt8]
    }

    /// One build of the Go program.
    struct Build: Sendable {
        /// Which `encoding/json` it uses, for messages.
        var name: String
        var executable: URL
    }

    typealias Failure = GoToolchain.Failure

    static var root: URL { GoToolchain.root }

    static var goExecutable: String? { GoToolchain.executable }

    /// Run the oracle tests when Go is here, and always under CI, where a
    /// missing Go is then a failure rather than a skip.
    static var shouldRun: Bool { GoToolchain.shouldRun }

    /// The builds, made once per test run (Go's build cache, kept in
    /// `.build/go-oracle`, makes later runs quick).
    static let builds: Result<[Build], Failure> = Result { () throws(Failure) -> [Build] in try makeBuilds() }

    /// Each build's answers to `lines`, in order.
    static func answers(to lines: [[UInt8]]) throws -> [(build: String, answers: [Answer])] {
        let builds = try builds.get()
        var input: [UInt8] = []
        for line in lines {
            appendHex(line, to: &input)
            input.append(UInt8(ascii: "\n"))
        }
        return try builds.map { build in
            let result = try run(build.executable, [], stdin: input)
            guard result.status == 0 else {
                throw Failure(description: "\(build.name) oracle exited \(result.status): \(String(decoding: result.stderr, as: UTF8.self))")
            }
            let replies = result.stdout.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
            guard result.stdout.last == UInt8(ascii: "\n"), replies.count == lines.count else {
                throw Failure(description: "\(build.name) oracle gave \(replies.count) answers to \(lines.count) lines")
            }
            let answers = try replies.map { reply throws(Failure) -> Answer in
                let fields = reply.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
                guard fields.count == 2, let marshalled = decodeHex(fields[1]) else {
                    throw Failure(description: "unreadable oracle answer \(String(decoding: reply, as: UTF8.self))")
                }
                switch String(decoding: fields[0], as: UTF8.self) {
                case "ok": return Answer(succeeded: true, marshalled: marshalled)
                case "error": return Answer(succeeded: false, marshalled: marshalled)
                default: throw Failure(description: "unreadable oracle status in \(String(decoding: reply, as: UTF8.self))")
                }
            }
            return (build.name, answers)
        }
    }

    // MARK: Building

    private static func makeBuilds() throws(Failure) -> [Build] {
        func build(_ name: String, experiment: String) throws(Failure) -> Build? {
            let executable = try GoToolchain.build("Tests/GoOracle", named: "gooracle-" + (experiment.isEmpty ? "default" : experiment),
                                                   experiment: experiment, purpose: "the Go oracle")
            return executable.map { Build(name: name, executable: $0) }  // nil: a Go from before the jsonv2 experiment
        }
        let both = [
            try build("encoding/json (classic, GOEXPERIMENT=nojsonv2)", experiment: "nojsonv2"),
            try build("encoding/json on v2 (GOEXPERIMENT=jsonv2)", experiment: "jsonv2"),
        ].compactMap { $0 }
        if !both.isEmpty { return both }
        return [try build("encoding/json (Go without the jsonv2 experiment)", experiment: "")].compactMap { $0 }
    }

    // MARK: Processes and hex

    /// `GoToolchain.run`, under the name the oracle's callers know.
    static func run(_ executable: URL, _ arguments: [String], in directory: URL? = nil,
                    environment: [String: String]? = nil, stdin: [UInt8] = []) throws -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        try GoToolchain.run(executable, arguments, in: directory, environment: environment, stdin: stdin)
    }

    static func appendHex(_ bytes: [UInt8], to out: inout [UInt8]) {
        let digits = Array("0123456789abcdef".utf8)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
    }

    static func decodeHex(_ hex: ArraySlice<UInt8>) -> [UInt8]? {
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            guard let high = value(hex[index]), let low = value(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
