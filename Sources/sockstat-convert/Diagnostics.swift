import SystemPackage

/// One-line messages on standard error, prefixed with the tool's name.
enum Diagnostics {
    static func report(_ message: String) {
        let line = "sockstat-convert: " + message + "\n"
        _ = try? FileDescriptor.standardError.writeAll(Array(line.utf8))
    }
}
