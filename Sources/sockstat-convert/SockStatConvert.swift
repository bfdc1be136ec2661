import ArgumentParser

/// `sockstat-convert`: segments to canonical JSON lines and back.
@main
struct SockStatConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sockstat-convert",
        abstract: "Look through SockStatLog segments (JSON lines, CSV, a summary, an HTML report, follow), and compact JSON lines into segments.",
        discussion: """
            Exit codes: 0 success; 1 output incomplete (damage skipped, or invalid lines skipped with \
            --skip-invalid); 2 stopped at damage (--strict); 64 usage error; 65 invalid input line \
            (encode); 66 input missing or unreadable; 73 cannot create output; 74 write error.
            """,
        subcommands: [Decode.self, Encode.self, Summary.self, Report.self, Export.self],
        defaultSubcommand: Decode.self
    )
}

/// The documented exit codes (also in README.md).
enum Exit {
    static let incomplete = ExitCode(1)
    static let stoppedAtDamage = ExitCode(2)
    static let dataError = ExitCode(65)
    static let noInput = ExitCode(66)
    static let cannotCreate = ExitCode(73)
    static let ioError = ExitCode(74)
}
