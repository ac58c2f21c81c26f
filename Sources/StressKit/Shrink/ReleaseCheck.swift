import StressSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Runs a shrunk script on other SQLite releases — each a directory holding a
/// `libsqlite3.so.0` (`scripts/build-sqlite` makes them) — to tell whether the
/// failure depends on the release. Each run is `sqlite-stress --sqlite DIR
/// shrink --verify SCRIPT` in a process of its own, since a process runs on one library.
public enum ReleaseCheck {
    /// The `sqlite3` shell to name in a verification command: the one beside the
    /// library under test when `--sqlite` chose one and it has a shell, else the one on PATH.
    public static var shell: String {
        if let directory = getenv(SQLiteChoice.environmentVariable).map({ String(cString: $0) }),
           access(DatabaseFile.join(directory, "sqlite3"), X_OK) == 0 {
            return DatabaseFile.join(directory, "sqlite3")
        }
        return "sqlite3"
    }

    public struct Outcome: Sendable {
        public enum Status: String, Sendable { case fails, holds, error }
        public var directory: String
        /// The version the run reported, or "?" when it did not start.
        public var version: String
        public var result: Status
        /// The verdict line, or what went wrong.
        public var detail: String

        public var line: String {
            switch result {
            case .fails: "SQLite \(version) (\(directory)) fails — \(detail)"
            case .holds: "SQLite \(version) (\(directory)) holds — \(detail)"
            case .error: "SQLite \(version) (\(directory)) could not run the script: \(detail)"
            }
        }
    }

    /// The builds in `root` (default `.build-sqlite` in the working directory):
    /// its subdirectories holding a library and the BUILD-INFO build-sqlite writes.
    public static func builds(in root: String = ".build-sqlite") -> [String] {
        guard FileManager.default.fileExists(atPath: root),
              let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        return names.sorted().map { DatabaseFile.join(root, $0) }.filter { directory in
            FileManager.default.fileExists(atPath: DatabaseFile.join(directory, "BUILD-INFO"))
                && FileManager.default.fileExists(atPath: DatabaseFile.join(directory, SQLiteLibrary.fileName))
        }
    }

    /// Runs `script` on the library in each of `directories`.
    public static func run(_ script: String, on directories: [String]) throws(ToolError) -> [Outcome] {
        let work = try WorkDirectory()
        return directories.enumerated().map { index, directory in
            let output = DatabaseFile.join(work.path, "release-\(index)")
            let arguments = ["sqlite-stress", "--sqlite", directory, "shrink", "--verify", script]
            switch spawn("/proc/self/exe", arguments, output: output) {
            case .failure(let error):
                return Outcome(directory: directory, version: "?", result: .error, detail: error.message)
            case .success(let status):
                let text: String, errors: String
                do throws(ToolError) {
                    text = String(decoding: try DatabaseFile.contents(of: output + ".out"), as: UTF8.self)
                    errors = String(decoding: try DatabaseFile.contents(of: output + ".err"), as: UTF8.self)
                } catch {
                    return Outcome(directory: directory, version: "?", result: .error, detail: error.message)
                }
                let lines = text.split(separator: "\n")
                let version = lines.first { $0.hasPrefix("sqlite: ") }
                    .map { String($0.dropFirst("sqlite: ".count).prefix { $0 != "," }) } ?? "?"
                let verdict = lines.first { $0.contains(": VIOLATED — ") || $0.contains(": held — ") }.map(String.init)
                switch (status, verdict) {
                case (1, let verdict?): return Outcome(directory: directory, version: version, result: .fails, detail: verdict)
                case (0, let verdict?): return Outcome(directory: directory, version: version, result: .holds, detail: verdict)
                default:
                    let reason = errors.split(separator: "\n").first.map(String.init) ?? "exit status \(status)"
                    return Outcome(directory: directory, version: version, result: .error, detail: reason)
                }
            }
        }
    }

    /// Runs `path` with `arguments` (the first is argv[0]), stdout and stderr to
    /// `output.out` and `output.err`; the exit status, or why it could not run.
    private static func spawn(_ path: String, _ arguments: [String], output: String) -> Result<Int32, ToolError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, output + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var pid: pid_t = 0
        var argv = arguments.map { strdup($0) }
        argv.append(nil)
        defer { argv.forEach { free($0) } }
        let code = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard code == 0 else { return .failure(ToolError("cannot start sqlite-stress: \(String(cString: strerror(code))).")) }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        guard raw & 0x7F == 0 else { return .failure(ToolError("sqlite-stress was killed by signal \(raw & 0x7F).")) }
        return .success((raw >> 8) & 0xFF)
    }
}
