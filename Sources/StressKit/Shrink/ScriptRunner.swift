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
import CFaultVFS
import StressSQLite

/// Runs a script in-process as the `sqlite3` shell runs it — each statement to
/// completion on its connection, an error reported and passed over, never a
/// wait on a lock — on a fresh database in a work directory, under a fault and
/// crash setting, and asks the oracle.
///
/// The files are the names a written script uses (`shrink.db`, and its crashed
/// copy `shrink-crash.db`), so what runs here is what the script does.
final class ScriptRunner {
    static let databaseName = "shrink.db"
    static let crashedName = "shrink-crash.db"
    /// Before a power loss, the files as they stand: what was committed, to compare the power loss's files with.
    static let committedName = "shrink-committed.db"
    /// The file each VACUUM INTO of a script writes, removed before each (as the
    /// run removed each copy once it had checked it).
    static let copyName = Replay.copyPath(besides: databaseName)
    /// The database's own files a crash copies, in the order the script copies them.
    static let copiedSuffixes = ["", "-wal", "-journal"]

    let directory: String
    var databasePath: String { DatabaseFile.join(directory, Self.databaseName) }
    var crashedPath: String { DatabaseFile.join(directory, Self.crashedName) }
    var committedPath: String { DatabaseFile.join(directory, Self.committedName) }

    init(directory: String) {
        self.directory = directory
    }

    /// How one run ended.
    struct Result {
        /// The oracle's verdict; nil when the script ended inside a transaction
        /// (nothing to compare a crash with) or the database never opened.
        var verdict: ShrinkVerdict?
        /// The files the crash copied (suffixes of the database's name).
        var copied: [String] = []
        /// The live database's tables at the end, for the rendered check.
        var tables: [ShrinkOracle.Table] = []
        /// Faults the fault-injecting VFS injected.
        var faultsInjected: [FaultEvent] = []
    }

    /// Runs `steps` from a fresh database under `setting`, then crashes as it says and judges.
    /// `checkpoints` lists step indices after which to judge too (a scan for the
    /// first failing point); `stop` is asked after each such verdict and ends the run when true.
    ///
    /// With `syncs` false, syncs report success without waiting on the disk: the
    /// files a crash of the process leaves are the same either way (the
    /// operating system keeps every write), a simulated power loss still knows
    /// what was synced, and a reduction runs many times faster. Under faults
    /// syncs stay real: they are I/O operations the faults' draws count.
    /// A power loss is judged only at the end (`checkpoints` do not apply).
    func run(
        _ steps: [ScriptStep], setting: ShrinkSetting, syncs: Bool = true, checkpoints: Set<Int> = [],
        stop: (Int, Result) -> Bool = { _, _ in false }
    ) throws(ToolError) -> Result {
        try clear()
        let simulatesSyncs = !syncs && !setting.hasFaults
        if setting.needsVFS || simulatesSyncs {
            try FaultInjector.armForReplay(
                setting.faults, seed: setting.faultSeed, simulatedSyncs: simulatesSyncs, powerLoss: setting.crash == .powerLoss)
        }
        var connections: [Int: Connection] = [:]
        defer {
            for slot in connections.keys.sorted() { connections[slot]?.close() }
        }
        let vfs = setting.needsVFS || simulatesSyncs ? FaultInjector.vfsName : nil
        func open(_ slot: Int) throws(ToolError) -> Connection? {
            if let connection = connections[slot] { return connection }
            do {
                let connection = try Connection(path: databasePath, flags: [.readWrite, .create], vfs: vfs)
                connections[slot] = connection
                return connection
            } catch {
                try checkStorage(error, setting: setting)
                return nil  // An open that fails (an injected fault) is tried again at the slot's next statement.
            }
        }
        for (index, step) in steps.enumerated() {
            switch step.action {
            case .reopen:
                connections.removeValue(forKey: step.connection)?.close()
                _ = try open(step.connection)
            case .sql(let sql):
                guard let connection = try open(step.connection) else { continue }
                // The script's VACUUM INTO writes the work directory's copy, whatever file it names,
                // afresh each time (as the script removes it first).
                if Replay.isVacuumInto(sql) { try DatabaseFile.remove(Replay.copyPath(besides: databasePath)) }
                if let error = Self.execute(Replay.redirected(sql, besides: databasePath), on: connection).error {
                    try checkStorage(error, setting: setting)
                }
            }
            if checkpoints.contains(index) && setting.crash != .powerLoss {
                // Part way, connections stay open: without a crash, the check only approximates the end's.
                let result = try judge(connections, setting: setting, through: vfs)
                if stop(index, result) { return result }
            }
        }
        switch setting.crash {
        case .none:
            // Without a crash the script closes its connections and opens the database again to check it.
            guard connections.values.allSatisfy(\.isAutocommit) else { return Result() }
            for slot in connections.keys.sorted() { connections.removeValue(forKey: slot)?.close() }
        case .powerLoss:
            return try losePower(&connections, setting: setting)
        case .kill:
            break
        }
        return try judge(connections, setting: setting, through: vfs)
    }

    /// Runs one statement to completion; its error, like the shell's, changes
    /// nothing but its own effect: the shell reports it and goes on, and so does the script.
    static func execute(_ sql: String, on connection: Connection) -> StatementRunner.Outcome {
        StatementRunner.run(sql, on: connection)
    }

    /// With no fault planted, a full disk, an I/O error or a file that cannot
    /// be opened is the work directory's trouble, not the script's: a replay
    /// that met it would read as one that does not fail, and the reduction
    /// would go elsewhere. It stops the shrink instead, naming the directory.
    private func checkStorage(_ error: SQLiteError, setting: ShrinkSetting) throws(ToolError) {
        guard !setting.hasFaults, error.isStorageTrouble else { return }
        throw ToolError("shrink's work directory \(directory) failed under a replay (\(error.code.name): \(error.message)); "
            + (error.code.primary == .full ? "give it room, or set TMPDIR to a directory with room."
                : "set TMPDIR to a directory SQLite can write, on a sound disk."))
    }

    /// Crashes (copies the files) as `setting` says and asks the oracle, on a
    /// connection of its own that reads what was committed.
    private func judge(_ connections: [Int: Connection], setting: ShrinkSetting, through vfs: String?) throws(ToolError) -> Result {
        var result = Result()
        if setting.hasFaults { result.faultsInjected = FaultInjector.events() }
        guard connections.values.allSatisfy(\.isAutocommit), FileManager.default.fileExists(atPath: databasePath) else {
            return result
        }
        if setting.crash == .kill { result.copied = try copyFiles(to: crashedPath) }
        // Through the quiet twin of the fault-injecting VFS: the oracle's reads never fault.
        let reader: Connection
        do {
            reader = try Connection(path: databasePath, flags: [.readWrite], vfs: vfs == nil ? nil : FaultInjector.quietVFSName)
        } catch {
            return result
        }
        defer { reader.close() }
        do throws(SQLiteError) {
            result.tables = try ShrinkOracle.tables(reader)
        } catch where error.isCorruption {
            // The live database itself cannot be read: that is the verdict.
            result.verdict = ShrinkVerdict(unreadable: error.message)
            return result
        } catch {
            return result
        }
        result.verdict = ShrinkOracle.judge(reader, crash: setting.crash, crashedPath: crashedPath)
        return result
    }

    /// The power fails right after the last statement. What was committed is
    /// what a crash of the process would leave (copied first); the power loss
    /// then drops, keeps or garbles every unsynced write, the connections are
    /// abandoned, and the files it leaves are judged against the committed copy.
    /// No verdict where SQLite does not promise that every commit survives a power loss (a
    /// connection below synchronous FULL) or a transaction is open.
    private func losePower(_ connections: inout [Int: Connection], setting: ShrinkSetting) throws(ToolError) -> Result {
        var result = Result()
        guard connections.values.allSatisfy(\.isAutocommit), FileManager.default.fileExists(atPath: databasePath) else {
            return result
        }
        for connection in connections.values {
            do {
                guard case .integer(let level)? = try connection.scalar("PRAGMA synchronous"), level >= 2 else { return result }
            } catch {
                return result
            }
        }
        try copyFiles(to: committedPath)
        FaultInjector.crashNow()
        try FaultInjector.applyPowerLoss()
        result.faultsInjected = FaultInjector.events()
        for slot in connections.keys.sorted() { connections.removeValue(forKey: slot)?.close() }
        result.copied = try copyFiles(to: crashedPath)
        let reader: Connection
        do {
            reader = try Connection(path: committedPath, flags: [.readWrite])
        } catch {
            return result
        }
        defer { reader.close() }
        do throws(SQLiteError) {
            result.tables = try ShrinkOracle.tables(reader)
        } catch {
            return result  // What a crash of the process leaves cannot be read: kill settings judge that.
        }
        result.verdict = ShrinkOracle.judge(reader, crash: .kill, crashedPath: crashedPath)
        return result
    }

    /// Copies the database and its WAL or journal, those that exist, to `destination` (and its suffixes).
    @discardableResult
    private func copyFiles(to destination: String) throws(ToolError) -> [String] {
        try DatabaseFile.remove(destination)
        var copied: [String] = []
        for suffix in Self.copiedSuffixes where FileManager.default.fileExists(atPath: databasePath + suffix) {
            try copy(databasePath + suffix, to: destination + suffix)
            copied.append(suffix)
        }
        return copied
    }

    private func clear() throws(ToolError) {
        try DatabaseFile.remove(databasePath)
        try DatabaseFile.remove(committedPath)
        try DatabaseFile.remove(Replay.copyPath(besides: databasePath))
        try removeCrashed()
    }

    private func removeCrashed() throws(ToolError) {
        try DatabaseFile.remove(crashedPath)
    }

    private func copy(_ source: String, to destination: String) throws(ToolError) {
        do {
            try FileManager.default.copyItem(atPath: source, toPath: destination)
        } catch {
            throw ToolError("cannot copy \(source) to \(destination): \(ToolError.reason(error)).")
        }
    }
}

/// A directory of its own in the temporary directory, removed with the object.
final class WorkDirectory {
    let path: String

    init() throws(ToolError) {
        var template = Array((FileManager.default.temporaryDirectory.path + "/sqlite-stress-shrink-XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw ToolError("cannot create a work directory: \(String(cString: strerror(errno))).")
        }
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        // What is left in a temporary directory is no one's loss; nothing to report to.
        try? FileManager.default.removeItem(atPath: path)
    }
}

extension FaultInjector {
    /// Arms the fault-injecting VFS for one replay: `faults` drawn from `seed`;
    /// with `simulatedSyncs`, syncs that succeed without waiting on the disk;
    /// with `powerLoss`, unsynced writes kept for the power loss the replay
    /// brings about itself at its end (`crashNow`), never at a point of its own.
    static func armForReplay(_ faults: [FaultSpec], seed: UInt64, simulatedSyncs: Bool, powerLoss: Bool) throws(ToolError) {
        guard faultvfs_register() == 0 else { throw ToolError("cannot register the fault-injecting VFS.") }
        var config = faultvfs_config()
        config.seed = seed
        withUnsafeMutableBytes(of: &config.rate) { raw in
            let rates = raw.bindMemory(to: Double.self)
            for spec in faults { rates[spec.kind.cValue] = spec.rate }
        }
        config.track_unsynced = powerLoss ? 1 : 0
        config.simulated_sync = simulatedSyncs ? 1 : 0
        config.crash_mode = Int32(FAULTVFS_CRASH_NEVER)
        faultvfs_configure(&config)
    }
}
