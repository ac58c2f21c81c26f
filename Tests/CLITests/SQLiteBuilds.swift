import Foundation
import Testing

/// SQLite libraries built from source by scripts/build-sqlite, cached in
/// `.build-sqlite/` (gitignored) so a build is paid once per machine.
enum SQLiteBuilds {
    /// The amalgamation scripts/setup fetches: sqlite.org's 3.50.4, inside the sqlean.py sdist.
    static let sdist = CLI.packageRoot.appendingPathComponent(".build-sqlite/sources/sqlean_py-3.50.4.5.tar.gz")
    /// Its SHA3-256, as PyPI served it when this was written.
    static let sdistSHA3 = "6a65ed18026640721b5a6142d9bf52f9b20c6e4b60c41df63a92dfd845690b46"
    static let unavailable = "the SQLite 3.50.4 amalgamation is missing (scripts/setup fetches it from PyPI; none could be had)"

    static var hasAmalgamation: Bool { FileManager.default.fileExists(atPath: sdist.path) }

    /// SQLite 3.50.4 built from `sdist`, or why not. Built once per process (and
    /// cached on disk, keyed by the build script's contents so a changed recipe rebuilds).
    static let release3504: Result<URL, BuildFailure> = build(sdist, sha3: sdistSHA3, name: "3.50.4")

    /// The same source built with `SQLITE_DEBUG`: SQLite's own assertions on,
    /// as SQLite's developers build it to test a change.
    static let debug3504: Result<URL, BuildFailure> = build(
        sdist, sha3: sdistSHA3, name: "3.50.4-debug", extraFlags: "-DSQLITE_DEBUG")

    struct BuildFailure: Error, CustomStringConvertible {
        let description: String
    }

    static func build(_ source: URL, sha3: String, name: String, extraFlags: String = "") -> Result<URL, BuildFailure> {
        let script = CLI.packageRoot.appendingPathComponent("scripts/build-sqlite")
        guard let recipe = try? CLI.exec(URL(fileURLWithPath: "/usr/bin/sha256sum"), [script.path]), recipe.status == 0 else {
            return .failure(BuildFailure(description: "cannot hash scripts/build-sqlite"))
        }
        let key = String(recipe.stdout.prefix(12))
        let output = CLI.packageRoot.appendingPathComponent(".build-sqlite/\(name)-\(key)")
        if FileManager.default.fileExists(atPath: output.appendingPathComponent("BUILD-INFO").path) { return .success(output) }
        do {
            let result = try CLI.exec(script, ["--sha3-256", sha3, source.path, output.path],
                                      environment: ["CFLAGS_EXTRA": extraFlags])
            guard result.status == 0 else {
                return .failure(BuildFailure(description: "scripts/build-sqlite failed: \(result.stderr)"))
            }
            return .success(output)
        } catch {
            return .failure(BuildFailure(description: "cannot run scripts/build-sqlite: \(error)"))
        }
    }
}
