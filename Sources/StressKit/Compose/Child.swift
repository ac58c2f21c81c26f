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

/// A command run by the composer: its own process group (so a signal reaches
/// everything it started), stdout and stderr to files, and an exit status.
final class Child {
    let name: String
    let prefix: Template.Prefix
    let seed: String
    let pid: pid_t
    let started: Date
    private(set) var status: Int32?
    private(set) var signal: Int32?
    private(set) var ended: Date?
    /// Killed by the runner (a fault, or the end of the driver phase), so a
    /// non-zero status is expected.
    var killedByRunner = false
    var pausedUntil: Date?

    /// Its place in the run, from 1.
    let sequence: Int
    /// The path of its output files without the `.out` / `.err` / `.sdk.jsonl` suffix.
    let output: String
    /// The last lines of its stderr, kept when it failed on its own.
    private(set) var stderrTail: String?

    /// The file its SDK output goes to (`$ANTITHESIS_SDK_LOCAL_OUTPUT`).
    static func sdkOutput(_ output: String) -> String { output + ".sdk.jsonl" }

    private static let suffixes = [".out", ".err", ".sdk.jsonl"]

    init(command: Template.Command, seed: String, environment: [String: String], output: String, sequence: Int) throws(ToolError) {
        name = command.name
        prefix = command.prefix
        self.seed = seed
        self.output = output
        self.sequence = sequence
        started = Date()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, output + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let arguments = [command.path]
        let env = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let code = withCStrings(arguments) { argv in
            withCStrings(env) { envp in posix_spawn(&pid, command.path, &actions, &attributes, argv, envp) }
        }
        // posix_spawn fails alike when the command cannot run and when its output files cannot be made.
        guard code == 0 else {
            throw ToolError("cannot start \(command.path) with its output in \(output).out and .err: \(String(cString: strerror(code))).")
        }
        self.pid = pid
    }

    var isRunning: Bool { status == nil && signal == nil }

    /// Collects the exit status if the process has ended; returns whether it has.
    @discardableResult
    func poll(blocking: Bool = false) -> Bool {
        guard isRunning else { return true }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, blocking ? 0 : WNOHANG)
        guard result == pid else { return false }
        if raw & 0x7F == 0 { status = (raw >> 8) & 0xFF } else { signal = raw & 0x7F }
        ended = Date()
        // Anything the command left running in its group goes with it.
        kill(-pid, SIGKILL)
        if status != 0, !killedByRunner { stderrTail = Self.tail(of: output + ".err") }
        return true
    }

    /// Whether every process of its group has ended, waiting up to `limit`
    /// seconds after the leader: `poll` killed the rest of the group, which
    /// may take a moment to die (a process inside `write(2)` finishes the page
    /// it copies). With a template that `exec`s its command, the leader was
    /// the group's only process.
    func groupEnded(limit: Double = 0.2) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while kill(-pid, 0) == 0 || errno != ESRCH {
            guard Date() < deadline else { return false }
            usleep(1_000)
        }
        return true
    }

    /// Most commands say nothing on one of their outputs: no empty files are kept.
    func removeEmptyOutput() {
        for suffix in Self.suffixes where DatabaseFile.size(of: output + suffix) == 0 { unlink(output + suffix) }
    }

    /// The output files the command left.
    var outputFiles: [String] {
        Self.suffixes.filter { FileManager.default.fileExists(atPath: output + $0) }.map { output + $0 }
    }

    /// Its record, once it has ended: output paths relative to the run `directory`.
    func record(in directory: String, assertionFailed: Bool) -> ComposeReport.CommandRecord {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return ComposeReport.CommandRecord(
            sequence: sequence, name: name, prefix: self.prefix, seed: seed, outcome: outcome, exitStatus: status,
            signal: signal, killedByRunner: killedByRunner, seconds: (ended ?? Date()).timeIntervalSince(started),
            output: outputFiles.map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 },
            stderrTail: stderrTail, assertionFailed: assertionFailed)
    }

    /// The last few lines of the file at `path` (at most 2 KiB of it), or nil when it is empty.
    static func tail(of path: String, lines: Int = 5) -> String? {
        let size = DatabaseFile.size(of: path)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard size > 0, fd >= 0 else { return nil }
        defer { close(fd) }
        let start = max(0, size - 2048)
        var bytes = [UInt8](repeating: 0, count: Int(size - start))
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
        guard count > 0 else { return nil }
        var text = String(decoding: bytes.prefix(count), as: UTF8.self)
        if start > 0, let newline = text.firstIndex(of: "\n") { text = String(text[text.index(after: newline)...]) }
        let kept = text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines)
        return kept.isEmpty ? nil : kept.joined(separator: "\n")
    }

    /// Sends `signal` to the command's whole process group.
    func send(_ signal: Int32) {
        guard isRunning else { return }
        kill(-pid, signal)
    }

    var outcome: String {
        if let status { return "exit \(status)" }
        if let signal { return "killed by signal \(signal)" }
        return "running"
    }
}

private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}
