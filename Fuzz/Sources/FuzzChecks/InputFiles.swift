// Reading inputs for the targets' plain `main` (built without -DFUZZING):
// the same files libFuzzer would take, run once each.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `check` once on every file named in `arguments`, and on every file
/// inside a named directory (not recursively). Exits 1 if a check fails or a
/// path cannot be read, after reporting it; 0 otherwise.
public func runEachInput(_ arguments: some Sequence<String>, check: ([UInt8]) throws -> Void) -> Never {
    var files: [String] = []
    var failed = false
    for path in arguments {
        if let directory = opendir(path) {
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                if !name.hasPrefix(".") { names.append(path + "/" + name) }
            }
            closedir(directory)
            files += names.sorted()
        } else {
            files.append(path)
        }
    }
    for file in files {
        guard let bytes = readWholeFile(file) else {
            print("\(file): cannot read")
            failed = true
            continue
        }
        do {
            try check(bytes)
            print("\(file): ok (\(bytes.count) bytes)")
        } catch {
            print("\(file): FAILED: \(error)")
            failed = true
        }
    }
    exit(failed ? 1 : 0)
}
