import Foundation
import Testing

/// `scripts/setup` installs what the build and the tests need, and no
/// container engine: the compose file is validated without one.
@Suite struct SetupTests {
    static let setup = CLI.packageRoot.appendingPathComponent("scripts/setup")
    static let aptGet = URL(fileURLWithPath: "/usr/bin/apt-get")

    /// The packages apt would install (`Inst` lines of a dry run), on a machine with nothing installed.
    static func planned(_ result: CommandResult) -> [String] {
        result.stdout.split(separator: "\n").filter { $0.hasPrefix("Inst ") }.map { String($0.split(separator: " ")[1]) }
    }

    // A dry run of what setup installs, planned for a bare machine (an empty
    // dpkg status), names no docker.io, containerd or runc; the same dry run
    // with apt's recommendations on does name them, so the check can fail.
    @Test func setupInstallsNoContainerEngine() throws {
        let scratch = try Scratch()
        let status = scratch.file("status")
        try Data().write(to: status)
        let bare = ["-o", "Dir::State::status=\(status.path)"]

        let dryRun = try CLI.exec(Self.setup, ["--dry-run"] + bare)
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        let planned = Self.planned(dryRun)
        for package in ["libsqlite3-dev", "sqlite3", "pkg-config", "gcc", "libc6-dev", "docker-compose"] {
            #expect(planned.contains(package), "setup would not install \(package): \(dryRun.stdout.suffix(2000))")
        }
        for engine in ["docker.io", "containerd", "runc"] {
            #expect(!planned.contains(engine), "setup would install \(engine)")
        }

        let recommended = try CLI.exec(Self.aptGet, ["-s"] + bare + ["-o", "APT::Install-Recommends=true", "install", "docker-compose"])
        #expect(recommended.status == 0, "\(recommended.stderr)")
        #expect(Self.planned(recommended).contains("docker.io"), "\(recommended.stdout.suffix(2000))")
    }

    // `--help` prints the usage and installs nothing; an unknown option is one
    // sentence and exit 2, never a run of the installation.
    @Test func setupAnswersHelpAndRefusesUnknownOptions() throws {
        let help = try CLI.exec(Self.setup, ["--help"])
        #expect(help.status == 0, "\(help.stderr)")
        #expect(help.stdout.contains("scripts/setup --dry-run [OPTION…]"), "\(help.stdout)")
        #expect(!help.stdout.contains("set -euo"))
        let bogus = try CLI.exec(Self.setup, ["--bogus"])
        #expect(bogus.status == 2)
        #expect(bogus.stdout.isEmpty)
        #expect(bogus.stderr == "scripts/setup: unknown option --bogus (see scripts/setup --help).\n")
    }
}
