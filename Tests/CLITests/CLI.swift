import Foundation
import Testing

/// Runs the built `sqlite-stress` (or any program) and captures what it did.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CLI {
    /// The built executable: beside the test bundle, in the same build directory.
    static let binary: URL = {
        var directory = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("sqlite-stress")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/sqlite-stress")
    }()

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs `sqlite-stress arguments…` in `directory`.
    static func run(
        _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]
    ) throws -> CommandResult {
        try exec(binary, arguments, in: directory, environment: environment)
    }

    /// Runs any executable, optionally feeding `input` on stdin.
    static func exec(
        _ executable: URL, _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:],
        input: URL? = nil
    ) throws -> CommandResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var env = ProcessInfo.processInfo.environment
        env["SQLITE_STRESS_SEED"] = nil
        env["SQLITE_STRESS_DB"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let input { process.standardInput = try FileHandle(forReadingFrom: input) } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        // Drain both pipes while the process runs, so a chatty child cannot block.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        process.waitUntilExit()
        group.wait()
        return CommandResult(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs a printed command line (a reproduce line) through `sh -c` in
    /// `directory`, with the built binary's directory first on PATH, as a user
    /// who installed it would have it.
    static func shell(_ command: String, in directory: URL) throws -> CommandResult {
        let path = binary.deletingLastPathComponent().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        return try exec(URL(fileURLWithPath: "/bin/sh"), ["-c", command], in: directory, environment: ["PATH": path])
    }

    /// Starts `sqlite-stress arguments…` without waiting; output goes nowhere.
    static func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// `sqlite3 DB .dump`, the content comparison the issue asks for.
    static func dump(_ db: URL) throws -> String {
        let result = try exec(URL(fileURLWithPath: "/usr/bin/sqlite3"), [db.path, ".dump"])
        #expect(result.status == 0, "sqlite3 .dump failed: \(result.stderr)")
        return result.stdout
    }

    /// The assertions evaluated (`hit`) in the Antithesis SDK output at `sdk`
    /// (`ANTITHESIS_SDK_LOCAL_OUTPUT`); every line must be JSON.
    static func assertionHits(in sdk: URL) throws -> [[String: Any]] {
        try String(contentsOf: sdk, encoding: .utf8).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }.compactMap { $0["antithesis_assert"] as? [String: Any] }.filter { $0["hit"] as? Bool == true }
    }
}

/// A temporary directory removed at the end of the test.
final class Scratch {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-stress-cli-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Every file in the directory with its contents, to prove nothing changed
    /// (what is not a regular file, by its type: reading a FIFO would wait).
    func snapshot() throws -> [String: Data] {
        var result: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: url.path) {
            let type = try FileManager.default.attributesOfItem(atPath: file(name).path)[.type] as? FileAttributeType
            result[name] = type == .typeRegular ? try Data(contentsOf: file(name)) : Data(String(describing: type).utf8)
        }
        return result
    }
}
