import Foundation
import Testing

@Suite struct ComposerTests {
    static let prefixes = ["first_", "parallel_driver_", "serial_driver_", "singleton_driver_", "anytime_", "eventually_", "finally_", "helper_"]

    // Every file under composer/ is a Test Composer command: a known prefix,
    // executable, with a shebang.
    @Test func templatesAreWellFormed() throws {
        let root = CLI.packageRoot.appendingPathComponent("composer")
        let files = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap { $0 as? String }
            .filter { !$0.hasSuffix("/") && !FileManager.default.directoryExists(root.appendingPathComponent($0)) }
        #expect(files.contains("monolith/singleton_driver_stress"))
        for file in files {
            let url = root.appendingPathComponent(file)
            let name = url.lastPathComponent
            #expect(Self.prefixes.contains { name.hasPrefix($0) }, "\(file) has no Test Composer prefix")
            #expect(FileManager.default.isExecutableFile(atPath: url.path), "\(file) is not executable")
            #expect(try Data(contentsOf: url).prefix(2) == Data("#!".utf8), "\(file) has no shebang")
        }
    }

    // The monolith's singleton driver runs the binary found on PATH, with the
    // database from $SQLITE_STRESS_DB, and its arguments override its defaults.
    @Test func singletonDriverRuns() throws {
        let scratch = try Scratch()
        let script = CLI.packageRoot.appendingPathComponent("composer/monolith/singleton_driver_stress")
        let path = CLI.binary.deletingLastPathComponent().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let result = try CLI.exec(
            script, ["--iterations", "40", "--json"], in: scratch.url,
            environment: ["PATH": path, "SQLITE_STRESS_DB": scratch.file("mono.db").path, "SQLITE_STRESS_SEED": "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["threads"] as? Int == 2)
        #expect(json["iterations"] as? Int == 40)
        #expect(json["result"] as? String == "pass")
        #expect(FileManager.default.fileExists(atPath: scratch.file("mono.db.sql").path))
    }
}

extension FileManager {
    func directoryExists(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
