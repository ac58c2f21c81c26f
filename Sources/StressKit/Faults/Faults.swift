import CFaultVFS

/// A storage fault the fault-injecting VFS can inject. The first three are
/// benign (SQLite is built to survive them, so they must never produce a
/// violation); the rest are planted bugs of a dishonest storage stack, which
/// the oracle must catch.
public enum StorageFault: String, CaseIterable, Sendable, Codable {
    case ioError = "io-error"
    case diskFull = "disk-full"
    case shortWrite = "short-write"
    case lyingFsync = "lying-fsync"
    case droppedWrite = "dropped-write"
    case bitFlip = "bit-flip"
    case tornWrite = "torn-write"
    case staleRead = "stale-read"
    case misdirectedWrite = "misdirected-write"

    /// Whether SQLite promises to survive this fault.
    public var isBenign: Bool { self == .ioError || self == .diskFull || self == .shortWrite }

    /// The probability per eligible operation when the specification names none.
    public var defaultRate: Double {
        switch self {
        case .ioError, .diskFull, .shortWrite: 0.01
        case .lyingFsync: 1
        case .droppedWrite, .bitFlip, .tornWrite, .misdirectedWrite: 0.01
        case .staleRead: 0.02
        }
    }

    /// What the fault does, for --help and reports.
    public var explanation: String {
        switch self {
        case .ioError: "a read, write, sync or truncate fails with SQLITE_IOERR"
        case .diskFull: "a write fails with SQLITE_FULL"
        case .shortWrite: "part of a write lands and SQLITE_FULL is reported"
        case .lyingFsync: "a sync reports success and makes nothing durable (needs a power loss to show)"
        case .droppedWrite: "a write reports success and is discarded"
        case .bitFlip: "one bit of a written page changes"
        case .tornWrite: "only part of a write lands, success reported"
        case .staleRead: "a read returns the previous version of the page"
        case .misdirectedWrite: "a write lands at another page's offset"
        }
    }

    var cValue: Int {
        switch self {
        case .ioError: Int(FAULTVFS_IO_ERROR)
        case .diskFull: Int(FAULTVFS_DISK_FULL)
        case .shortWrite: Int(FAULTVFS_SHORT_WRITE)
        case .lyingFsync: Int(FAULTVFS_LYING_FSYNC)
        case .droppedWrite: Int(FAULTVFS_DROPPED_WRITE)
        case .bitFlip: Int(FAULTVFS_BIT_FLIP)
        case .tornWrite: Int(FAULTVFS_TORN_WRITE)
        case .staleRead: Int(FAULTVFS_STALE_READ)
        case .misdirectedWrite: Int(FAULTVFS_MISDIRECTED_WRITE)
        }
    }
}

/// One `--fault KIND[:rate]`.
public struct FaultSpec: Sendable, Codable, Hashable, CustomStringConvertible {
    public var kind: StorageFault
    /// Probability per eligible operation, in (0, 1].
    public var rate: Double

    public init(kind: StorageFault, rate: Double? = nil) {
        self.kind = kind
        self.rate = rate ?? kind.defaultRate
    }

    /// Parses `KIND` or `KIND:rate`; the error is one sentence naming what is wrong.
    public static func parse(_ text: String) throws(ToolError) -> FaultSpec {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let kinds = StorageFault.allCases.map(\.rawValue).joined(separator: ", ")
        guard let kind = StorageFault(rawValue: String(parts[0])) else {
            throw ToolError("unknown fault '\(parts[0])' in --fault \(text); the kinds are \(kinds).")
        }
        guard parts.count == 2 else { return FaultSpec(kind: kind) }
        guard let rate = Double(parts[1]), rate > 0, rate <= 1 else {
            throw ToolError("the rate in --fault \(text) must be a number greater than 0 and at most 1.")
        }
        return FaultSpec(kind: kind, rate: rate)
    }

    public var description: String { "\(kind.rawValue):\(Self.format(rate))" }

    static func format(_ rate: Double) -> String {
        rate == rate.rounded() ? String(Int(rate)) : "\(rate)"
    }
}

/// The faults of one run: what to inject, and whether power fails.
public struct FaultPlan: Sendable, Codable, Hashable {
    public var faults: [FaultSpec]
    /// Simulate a power loss at a point drawn from the seed (or at the end of the work).
    public var crash: Bool

    public init(faults: [FaultSpec] = [], crash: Bool = false) {
        self.faults = faults
        self.crash = crash
    }

    public var isEmpty: Bool { faults.isEmpty && !crash }

    /// A sync that lies only shows at a power loss: such a run always ends with one.
    public var losesPower: Bool { crash || faults.contains { $0.kind == .lyingFsync } }

    /// Why this plan's power loss could verify nothing at `synchronous`, and the
    /// option that asks for it; nil where it can. At OFF SQLite never syncs: it
    /// promises nothing across a power loss (a commit may be lost, the file
    /// damaged, and neither is a violation), and a sync that lies is never called.
    public func unverifiable(at synchronous: String) -> (option: String, reason: String)? {
        guard losesPower, DatabaseConfig.neverSyncs(synchronous) else { return nil }
        return crash
            ? ("--crash", "SQLite promises nothing across a power loss at synchronous=off (a commit may be lost, the file damaged)")
            : ("--fault lying-fsync", "SQLite never syncs at synchronous=off (a sync that lies is never called)")
    }

    /// Rejects a kind given twice.
    public func validate() throws(ToolError) {
        var seen = Set<StorageFault>()
        for spec in faults where !seen.insert(spec.kind).inserted {
            throw ToolError("--fault \(spec.kind.rawValue) is given more than once.")
        }
    }

    /// The command-line arguments that give this plan.
    public var arguments: [String] {
        faults.flatMap { ["--fault", $0.description] } + (crash ? ["--crash"] : [])
    }

    public var summary: String {
        var parts = faults.map(\.description)
        if crash { parts.append("power loss") } else if losesPower { parts.append("power loss at the end") }
        return parts.joined(separator: ", ")
    }
}

/// A fault the VFS injected, or the power loss it simulated.
public struct FaultEvent: Sendable, Codable, Hashable, CustomStringConvertible {
    /// The fault kind, `crash` (the moment power failed) or `power-loss` (what it did to one file).
    public var kind: String
    /// The ordinal of the I/O operation it struck (reads, writes, syncs, truncates on the database's files).
    public var operation: UInt64
    public var op: String
    public var file: String
    public var offset: Int64
    public var bytes: Int64
    /// Kind-specific: the flipped bit, the bytes that landed, the misdirected offset,
    /// or for a power loss the writes kept.
    public var detail: Int64
    /// For a power loss: the writes garbled (the rest were dropped).
    public var detail2: Int64

    public var description: String {
        let place = file.isEmpty ? "" : " \(file)"
        switch kind {
        case "crash":
            return "power failed at operation \(operation)" + (op == "none" ? " (end of the work)" : " (\(op)\(place))")
        case "power-loss":
            return "power loss:\(place) \(Format.count(bytes, "unsynced operation")): \(detail) kept, \(detail2) garbled, \(bytes - detail - detail2) dropped"
        case StorageFault.bitFlip.rawValue:
            return "\(kind) at operation \(operation): \(op)\(place) offset \(offset), bit \(detail) of \(bytes) bytes"
        case StorageFault.tornWrite.rawValue, StorageFault.shortWrite.rawValue:
            return "\(kind) at operation \(operation): \(op)\(place) offset \(offset), \(detail) of \(bytes) bytes landed"
        case StorageFault.misdirectedWrite.rawValue:
            return "\(kind) at operation \(operation): \(op)\(place) offset \(offset) landed at \(detail)"
        default:
            return "\(kind) at operation \(operation): \(op)\(place)" + (op == "sync" ? "" : " offset \(offset), \(bytes) bytes")
        }
    }
}

/// What a run's faults did.
public struct FaultReport: Sendable, Codable, Hashable {
    public var plan: FaultPlan
    /// Every event, up to the VFS's cap (`total` counts all).
    public var events: [FaultEvent]
    public var total: UInt64
    /// Whether the simulated power loss struck, and whether acknowledged commits
    /// before it may be missing by SQLite's own promise (synchronous below FULL).
    public var poweredOff: Bool
    public var relaxedDurability: Bool
    /// The run's synchronous level.
    public var synchronous: String

    /// Injected faults per kind, in kind order.
    public var counts: [(kind: String, count: Int)] {
        var counts: [String: Int] = [:]
        for event in events { counts[event.kind, default: 0] += 1 }
        let order = StorageFault.allCases.map(\.rawValue) + ["crash", "power-loss"]
        return order.compactMap { kind in counts[kind].map { (kind, $0) } }
    }

    public var summary: String {
        var lines = ["faults: \(plan.summary) — " + (counts.isEmpty ? "none injected" : counts.map { "\($0.kind) \($0.count)" }.joined(separator: ", "))]
        for event in events where event.kind == "crash" || event.kind == "power-loss" { lines.append("  " + event.description) }
        if poweredOff {
            switch synchronous {
            case "NORMAL":
                lines.append("  synchronous=normal: a power loss may take each writer's latest acknowledged commits; the data must stay consistent")
            default:
                lines.append("  synchronous=\(synchronous.lowercased()): every acknowledged commit must survive the power loss")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// The process's fault-injecting VFS, configured from Swift. One configuration
/// per process: the VFS is global, like the disk it stands for.
public enum FaultInjector {
    /// The VFS that injects faults.
    public static let vfsName = FAULTVFS_NAME
    /// The same files and power-loss record, never a fault: for the oracle's reads during a run.
    public static let quietVFSName = FAULTVFS_QUIET_NAME

    /// Registers the VFS and arms `plan`, drawing every choice from `randomness`
    /// (inside Antithesis, the VFS calls `fuzz_get_random` at each decision).
    /// `expectedWork` sizes the window in which the power loss may strike;
    /// `unsyncedLimit` bounds the unsynced writes a power loss can take, per
    /// file, in bytes held (0: the VFS's default, 64 MiB; see `faultvfs_config`).
    public static func arm(_ plan: FaultPlan, randomness: Randomness, expectedWork: Int, unsyncedLimit: Int64 = 0) throws(ToolError) {
        guard faultvfs_register() == 0 else { throw ToolError("cannot register the fault-injecting VFS.") }
        var config = faultvfs_config()
        switch randomness {
        case .seed(let seed): config.seed = seed
        case .antithesis(let next): config.random = next
        }
        withUnsafeMutableBytes(of: &config.rate) { raw in
            let rates = raw.bindMemory(to: Double.self)
            for spec in plan.faults { rates[spec.kind.cValue] = spec.rate }
        }
        config.track_unsynced = plan.losesPower ? 1 : 0
        config.unsynced_limit = unsyncedLimit
        if plan.crash {
            // Where power fails: right after a sync (a commit boundary) or in the
            // middle of a write, anywhere in the run. A unit of work does a few
            // syncs and some tens of writes (more with FULL, fewer with OFF); a
            // point the run never reaches means power fails at the end.
            var rng = randomness.stream("crash-point")
            let work = max(1, expectedWork)
            if rng.int(in: 0...1) == 0 {
                config.crash_mode = Int32(FAULTVFS_CRASH_AFTER_SYNC)
                config.crash_at = UInt64(rng.int(in: 1...(4 * work)))
            } else {
                config.crash_mode = Int32(FAULTVFS_CRASH_AT_WRITE)
                config.crash_at = UInt64(rng.int(in: 1...(25 * work)))
            }
        } else {
            config.crash_mode = Int32(FAULTVFS_CRASH_NEVER)  // A power loss, if any, comes at the end.
        }
        faultvfs_configure(&config)
    }

    /// Whether the simulated power loss has struck.
    public static var crashed: Bool { faultvfs_crashed() != 0 }

    /// Makes the power fail now (no-op if it already has).
    public static func crashNow() { faultvfs_crash_now() }

    /// Rewrites the files as the power loss leaves them. Throws if a file could not be rewritten.
    public static func applyPowerLoss() throws(ToolError) {
        guard faultvfs_apply_power_loss() >= 0 else {
            throw ToolError("could not rewrite the database's files for the simulated power loss.")
        }
    }

    /// Every event so far.
    public static func events() -> [FaultEvent] {
        (0..<faultvfs_event_count()).compactMap { index in
            var event = faultvfs_event()
            guard faultvfs_event_at(index, &event) != 0 else { return nil }
            return FaultEvent(
                kind: kindName(event.kind), operation: event.operation, op: opName(event.op), file: fileName(event.file),
                offset: event.offset, bytes: event.amount, detail: event.detail, detail2: event.detail2)
        }
    }

    public static var eventTotal: UInt64 { faultvfs_event_total() }

    private static func kindName(_ kind: Int32) -> String {
        if kind == FAULTVFS_CRASH { return "crash" }
        if kind == FAULTVFS_POWER_LOSS { return "power-loss" }
        return StorageFault.allCases.first { $0.cValue == Int(kind) }?.rawValue ?? "unknown"
    }

    private static func opName(_ op: Int32) -> String {
        switch op {
        case Int32(FAULTVFS_OP_READ): "read"
        case Int32(FAULTVFS_OP_WRITE): "write"
        case Int32(FAULTVFS_OP_SYNC): "sync"
        case Int32(FAULTVFS_OP_TRUNCATE): "truncate"
        default: "none"
        }
    }

    private static func fileName(_ file: Int32) -> String {
        switch file {
        case Int32(FAULTVFS_FILE_DB): "db"
        case Int32(FAULTVFS_FILE_JOURNAL): "journal"
        case Int32(FAULTVFS_FILE_WAL): "wal"
        default: ""
        }
    }
}

extension RunContext {
    /// Ends work under faults, once the workers have stopped. If the plan
    /// loses power, the power fails now (unless it already has); a marker in
    /// the acknowledgement log, synced, tells the oracle what SQLite promised
    /// across it; the files are rewritten as the power loss leaves them —
    /// through the workers' still-open handles, so a lock they hold (a
    /// driver's exclusive lock) is held until the rewrite is done; then the
    /// connections are abandoned (every I/O fails by now). The next open
    /// recovers from the journal or the WAL, as after a reboot.
    ///
    /// The marker comes before the rewrite: a process killed (or a rewrite
    /// failing) between the two must not leave commits the power loss may
    /// take without the marker that excuses them, which the next check would
    /// report as lost. A marker whose rewrite never came excuses what the
    /// files still hold, and accuses nothing.
    func endFaults(abandoning workers: [Worker], who: String) throws(ToolError) -> FaultReport {
        let plan = settings.faults
        let relaxed = config.powerLossMayTakeLatestCommits
        if plan.losesPower {
            FaultInjector.crashNow()
            acks.powerLoss(relaxed: relaxed)
            try FaultInjector.applyPowerLoss()
            log.append("-- \(who) power loss (\(relaxed ? "each writer's latest acknowledged commits may be lost" : "every acknowledged commit must survive"))")
            for worker in workers { worker.abandon() }
        }
        return FaultReport(
            plan: plan, events: FaultInjector.events(), total: FaultInjector.eventTotal,
            poweredOff: plan.losesPower, relaxedDurability: relaxed, synchronous: config.synchronous)
    }
}
