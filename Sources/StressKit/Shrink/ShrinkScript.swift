/// One step of a script `shrink` works on: a statement run on one of the
/// script's connections, or that connection closed and opened again (a logged
/// reconnect, or one writer of a run handing over to the next).
///
/// Connections are numbered from 0, as the `sqlite3` shell numbers them
/// (`.connection N`): a script of one writer uses the shell's own connection.
public struct ScriptStep: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        case sql(String)
        case reopen
    }

    public var connection: Int
    public var action: Action

    public init(connection: Int, action: Action) {
        self.connection = connection
        self.action = action
    }

    public static func sql(_ text: String, on connection: Int = 0) -> ScriptStep {
        ScriptStep(connection: connection, action: .sql(text))
    }

    public var sql: String? {
        if case .sql(let text) = action { return text }
        return nil
    }
}

/// A step and the unit of work it came from (one transaction, maintenance step
/// or connection set-up of one writer in the SQL log), so the reduction can
/// remove whole transactions before single statements.
struct Atom: Hashable, Sendable {
    var step: ScriptStep
    var unit: Int
}

/// Where the candidate's end leaves the files for the oracle: as they are
/// (the check runs on the live database), or as a crash would leave them.
public enum CrashKind: String, Sendable, Codable, CaseIterable {
    /// No crash: the oracle reads the live database (`integrity` only: without a
    /// crash there is nothing to compare the committed rows with).
    case none
    /// The files copied right after the last statement, as a SIGKILL (or any
    /// crash of the process) leaves them: the operating system keeps every
    /// write, synced or not.
    case kill
    /// A power loss right after the last statement, simulated by the
    /// fault-injecting VFS: every write not yet synced is dropped, kept or
    /// garbled sector by sector (drawn from the fault seed). Only where SQLite
    /// promises durability across one (synchronous FULL or EXTRA); only
    /// `shrink --verify` runs such a script, as the shell cannot cut the power.
    case powerLoss = "power-loss"
}

/// The fault and crash setting a candidate runs under.
public struct ShrinkSetting: Hashable, Sendable, CustomStringConvertible {
    /// Storage faults injected through the fault-injecting VFS; empty for none.
    public var faults: [FaultSpec]
    /// The seed of the fault-injecting VFS's decisions.
    public var faultSeed: UInt64
    public var crash: CrashKind

    public init(faults: [FaultSpec] = [], faultSeed: UInt64 = 0, crash: CrashKind) {
        self.faults = faults
        self.faultSeed = faultSeed
        self.crash = crash
    }

    public var hasFaults: Bool { !faults.isEmpty }

    /// Whether the script needs sqlite-stress's fault-injecting VFS (a fault, or a power loss), not just the shell.
    public var needsVFS: Bool { hasFaults || crash == .powerLoss }

    /// e.g. "no fault, a crash right after the last statement".
    public var description: String {
        let seed = " (fault seed \(Seed.format(faultSeed)))"
        let fault = faults.isEmpty
            ? "no fault" + (crash == .powerLoss ? seed : "") : "fault " + faults.map(\.description).joined(separator: " ") + seed
        switch crash {
        case .none: return fault + ", no crash"
        case .kill: return fault + ", a crash right after the last statement"
        case .powerLoss: return fault + ", a power loss right after the last statement"
        }
    }

    /// The machine-readable form kept in a script's header, read back by `shrink --verify`.
    var headerFields: String {
        "crash=\(crash.rawValue) faults=" + (faults.isEmpty ? "none" : faults.map(\.description).joined(separator: ","))
            + " fault-seed=\(Seed.format(faultSeed))"
    }
}
