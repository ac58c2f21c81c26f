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

/// `sqlite-stress shrink`: from a failing run to the smallest script the
/// `sqlite3` shell runs that still fails the same way.
///
/// 1. The failing run is run again (or its SQL log read). A run of several
///    threads is first tried with one thread and the same seed; otherwise its
///    log is serialised: each writer on its own connection, in the order the
///    log holds the statements.
/// 2. The setting: the smallest fault and crash setting under which the log,
///    replayed on a fresh database, fails the property — no fault and no crash
///    (`integrity` only), no fault and a crash of the process at the end, the
///    run's own faults with one; each tried at every point where the writers
///    are between transactions, the first failing point ending the script;
///    last, where the run lost power and SQLite promises to survive that, a
///    power loss at the end of the whole log.
/// 3. Reduction (`Reducer`), in rounds while anything goes: connections merged
///    into one, units of work (transactions), statements (schema, indexes and
///    pragmas included), columns, the ledger triggers' row images, rows of
///    multi-row INSERTs, literals, long literals written as their size.
/// 4. The faults: none, each kind alone, then halved rates, while it still fails.
///
/// The predicate throughout: replay the candidate on a fresh database
/// (`ScriptRunner`), crash as the setting says, and the same property must
/// fail (`ShrinkOracle`). Deterministic: the same input gives the same script.
public final class Shrinker {
    public struct Request: Sendable {
        /// The failing run to run again; nil when `logPath` is given.
        public var settings: StressSettings?
        /// The SQL log of a failing run, instead of running it.
        public var logPath: String?
        /// Faults for a given log (default: those its header names).
        public var faults: FaultPlan
        /// The seed of a given log's run (default: its header's).
        public var seed: UInt64?
        /// The property to keep failing (default: the first the run violated, durability first).
        public var property: Property?
        /// Where to write the script.
        public var outPath: String
        /// Predicate evaluations allowed, and the wall-clock limit in seconds (0: none).
        public var maxTests: Int
        public var timeLimit: Double

        public init(
            settings: StressSettings?, logPath: String?, faults: FaultPlan = FaultPlan(), seed: UInt64? = nil,
            property: Property?, outPath: String, maxTests: Int, timeLimit: Double
        ) {
            self.settings = settings
            self.logPath = logPath
            self.faults = faults
            self.seed = seed
            self.property = property
            self.outPath = outPath
            self.maxTests = maxTests
            self.timeLimit = timeLimit
        }
    }

    /// Progress: a line for each step, and ticks while reducing.
    public struct Progress: Sendable {
        public var phase: String
        public var size: Int
        public var tests: Int
        public var elapsed: Double
    }

    let request: Request
    let say: (String) -> Void
    let tick: (Progress) -> Void
    private let workDirectory: WorkDirectory
    private var work: String { workDirectory.path }
    private let runner: ScriptRunner
    private let started = Date()
    private var reducer: Reducer

    public init(
        _ request: Request, say: @escaping (String) -> Void = { _ in }, tick: @escaping (Progress) -> Void = { _ in }
    ) throws(ToolError) {
        self.request = request
        self.say = say
        self.tick = tick
        try Self.checkOut(request.outPath)
        guard request.maxTests > 0 else { throw ToolError("--max-tests must be at least 1 (got \(request.maxTests)).") }
        guard request.timeLimit >= 0 else { throw ToolError("--time-limit must not be negative.") }
        workDirectory = try WorkDirectory()
        runner = ScriptRunner(directory: workDirectory.path)
        reducer = Reducer(
            tests: request.maxTests, deadline: request.timeLimit > 0 ? Date().addingTimeInterval(request.timeLimit) : nil)
    }

    /// The script is written only over nothing or over a script `shrink` wrote.
    static func checkOut(_ path: String) throws(ToolError) {
        try DatabaseFile.checkNotALink(path, what: "script")
        switch DatabaseFile.kind(at: path) {
        case .missing: try DatabaseFile.checkCreatable(path, what: "script")
        case .directory: throw ToolError("--out \(path) is a directory.")
        default:
            guard DatabaseFile.starts(path, with: ScriptFile.headerPrefix) || DatabaseFile.isEmpty(path) else {
                throw ToolError("refusing to overwrite \(path): it is not a script sqlite-stress shrink wrote.")
            }
        }
    }

    // MARK: - The failing run

    /// What the failing run was, and the log to shrink.
    struct Source {
        var log: ShrinkLog
        /// The properties to shrink for, by preference: the one asked for, else
        /// those the run violated (or, for a log alone, every one a script can judge).
        var properties: [Property]
        /// Properties the run violated (empty when only a log was given).
        var violated: [Property]
        var faults: FaultPlan
        var faultSeed: UInt64
        var description: String
        var notes: [String] = []
    }

    /// The preference among several violated properties: a loss of data before its symptoms.
    static let preference: [Property] = [.durability, .rollback, .model, .conservation, .schema, .integrity, .queryConsistency]

    private func source() throws(ToolError) -> Source {
        var source = try failingRun()
        if source.faults.losesPower {
            source.notes.append(Self.promisesDurability(source.log.synchronous)
                ? "the run lost power; shrink replays a crash of the process first (it keeps every write), then a power loss at the end of the script"
                : "the run lost power with synchronous=\(source.log.synchronous ?? "?"), across which SQLite does not promise that every commit survives; "
                    + "shrink replays only a crash of the process, which keeps every write")
        }
        return source
    }

    /// Whether SQLite promises that a commit survives a power loss at this synchronous level.
    static func promisesDurability(_ synchronous: String?) -> Bool {
        ["full", "extra"].contains(synchronous?.lowercased())
    }

    private func failingRun() throws(ToolError) -> Source {
        if let logPath = request.logPath {
            let log = try ShrinkLog.read(logPath)
            var properties = Self.preference.filter(ShrinkOracle.supported.contains)
            if let wanted = request.property { properties = [try supported(wanted)] }
            let faults = request.faults.isEmpty ? FaultPlan(faults: log.faults, crash: log.losesPower) : request.faults
            let seed = request.seed ?? log.seed ?? 0
            return Source(
                log: log, properties: properties,
                violated: [], faults: faults,
                faultSeed: Randomness.seed(seed).derived("faults").seed!, description: "the SQL log \(logPath)")
        }
        guard var settings = request.settings else { throw ToolError("shrink needs a failing run's options or --log.") }
        guard settings.randomness.seed != nil else {
            throw ToolError("shrink needs the failing run's --seed (or its SQL log with --log).")
        }
        settings.databasePath = DatabaseFile.join(work, "run.db")
        settings.logPath = SQLLog.path(for: settings.databasePath)
        settings.overwrite = true
        let (run, report) = try stress(settings)
        let command = Self.command(run)
        guard !report.passed else {
            if settings.threads > 1 {
                throw ToolError("\(command) violates no property this time; a run of several threads depends on their "
                    + "timing, so give the failing run's SQL log with --log.")
            }
            throw ToolError("\(command) violates no property; there is nothing to shrink.")
        }
        let violated = Self.violated(report)
        let properties = try choose(violated, description: command)
        var source = Source(
            log: try ShrinkLog.read(settings.logPath), properties: properties, violated: violated, faults: settings.faults,
            faultSeed: settings.randomness.derived("faults").seed!, description: command)
        say("the run violates \(violated.map(\.rawValue).joined(separator: ", ")) (\(Format.count(report.violations.count, "violation")), "
            + "\(source.log.statements) statements in its SQL log)")

        if settings.threads > 1 {
            var single = settings
            single.threads = 1
            let (_, again) = try stress(single)
            let names = properties.map(\.rawValue).joined(separator: " or ")
            if !Set(Self.violated(again)).isDisjoint(with: properties) {
                source.log = try ShrinkLog.read(single.logPath)
                source.notes.append("one thread with the same seed fails \(names) too; its log is shrunk")
            } else {
                source.notes.append("one thread with the same seed does not fail \(names); the "
                    + "\(settings.threads) writers' interleaving is replayed in the log's order, each on its own connection")
            }
            say(source.notes.last!)
        }
        return source
    }

    /// The properties a run violated, in the order of preference.
    static func violated(_ report: StressReport) -> [Property] {
        let names = Set(report.violations.map { name($0.property) })
        return preference.filter { names.contains($0.rawValue) }
    }

    /// A violation's property by its stable name, whether the report types it or names it.
    private static func name(_ property: Property) -> String { property.rawValue }
    private static func name(_ property: String) -> String { property }

    /// The properties to try: the one asked for, else those violated that a script can judge.
    private func choose(_ violated: [Property], description: String) throws(ToolError) -> [Property] {
        if let wanted = request.property {
            guard violated.contains(wanted) else {
                throw ToolError("\(description) violates \(violated.map(\.rawValue).joined(separator: ", ")), not \(wanted.rawValue).")
            }
            return [try supported(wanted)]
        }
        let judged = violated.filter { ShrinkOracle.supported.contains($0) }
        guard !judged.isEmpty else { return [try supported(violated.first ?? .queryConsistency)] }
        return judged
    }

    private func supported(_ property: Property) throws(ToolError) -> Property {
        guard ShrinkOracle.supported.contains(property) else {
            throw ToolError("shrink cannot make a script for \(property.rawValue): a script judges only "
                + ShrinkOracle.supported.map(\.rawValue).joined(separator: ", ") + ".")
        }
        return property
    }

    /// Runs `stress` in this process; its database and logs stay in the work directory.
    private func stress(_ settings: StressSettings) throws(ToolError) -> (StressRun, StressReport) {
        let run = try StressRun.prepare(settings)
        say("running " + Self.command(run))
        return (run, try run.run())
    }

    /// The run's reproduce line without the work directory's paths.
    static func command(_ run: StressRun) -> String {
        var arguments = run.reproduceArguments(threads: run.settings.threads) ?? ["stress"]
        if let db = arguments.firstIndex(of: "--db") { arguments.removeSubrange(db...(db + 1)) }
        if let log = arguments.firstIndex(of: "--sql-log") { arguments.removeSubrange(log...(log + 1)) }
        arguments.removeAll { $0 == "--overwrite" }
        return (["sqlite-stress"] + arguments).map(DatabaseFile.shellQuote).joined(separator: " ")
    }

    // MARK: - Shrinking

    public func run() throws(ToolError) -> ShrinkOutcome {
        let source = try source()
        var atoms = source.log.atoms
        let ladder = settings(source)

        // The setting, and the first point at which the log fails under it.
        var found: (Property, ShrinkSetting)?
        for setting in ladder {
            let properties = source.properties
            say("replaying the log: \(setting)")
            if let (property, end) = try firstFailure(atoms, setting: setting, properties: properties) {
                atoms = Array(atoms[...end])
                found = (property, setting)
                say("\(property.rawValue) fails under \(setting), after \(atoms.count { $0.step.sql != nil }) statements")
                break
            }
        }
        guard let (property, initialSetting) = found else {
            return ShrinkOutcome(
                source: source.description, property: nil, violated: source.violated, notes: source.notes,
                originalStatements: source.log.statements,
                notReproduced: "replaying its SQL log on a fresh database fails "
                    + source.properties.map(\.rawValue).joined(separator: ", ") + " under none of these settings: "
                    + ladder.map(\.description).joined(separator: "; "))
        }

        var setting = initialSetting
        atoms = try reduce(atoms, property: property, setting: setting)
        if setting.needsVFS {
            let smaller = try smallestFaults(atoms, property: property, setting: setting)
            if smaller != setting {
                setting = smaller
                say("a smaller setting still fails: \(setting)")
                atoms = try reduce(atoms, property: property, setting: setting)
            }
        }

        // The script, and proof that the script as written fails.
        let steps = atoms.map(\.step)
        let final = try runner.run(steps, setting: setting)
        guard let verdict = final.verdict, verdict.violates(property) else {
            throw ToolError("the reduced script no longer fails when run again; shrink is not deterministic here (a bug in shrink).")
        }
        let script = ScriptFile(property: property, setting: setting, steps: steps)
        let outcome = ShrinkOutcome(
            source: source.description, property: property, violated: source.violated, notes: source.notes,
            originalStatements: source.log.statements, setting: setting, originalFaults: source.faults,
            statements: ScriptFile.statementCount(steps, property: property, crash: setting.crash),
            tests: reducer.testsRun, elapsed: Date().timeIntervalSince(started), exhausted: reducer.exhausted,
            verdict: verdict, faultsInjected: final.faultsInjected,
            scriptPath: request.outPath)
        let text = script.render(comments: outcome.scriptComments, tables: final.tables, copied: final.copied)
        let reread = try ScriptFile.parse(text, path: request.outPath)
        guard reread.steps == ScriptFile.normalized(steps), try runner.run(reread.steps, setting: reread.setting).verdict?.violates(property) == true else {
            throw ToolError("the script as written does not fail as the reduced one did (a bug in shrink).")
        }
        try write(text, to: request.outPath)
        return outcome
    }

    /// Fault seeds tried before a failure under faults is called not reproducible.
    static let faultSeeds = 8

    /// The settings to try, smallest first.
    private func settings(_ source: Source) -> [ShrinkSetting] {
        var ladder: [ShrinkSetting] = []
        if source.properties.contains(.integrity) { ladder.append(ShrinkSetting(crash: .none)) }
        ladder.append(ShrinkSetting(crash: .kill))
        // Faults strike by the seeded draw at each I/O operation, and a replay's
        // operations are not the run's: the run's fault seed first, then a few others.
        let seeds = [source.faultSeed] + (1..<Self.faultSeeds).map { Randomness.seed(source.faultSeed).derived("shrink", $0).seed! }
        // A lying fsync changes nothing a crash of the process leaves: it needs a power loss.
        let faults = source.faults.faults.filter { $0.kind != .lyingFsync }
        // Without a crash the connections close under the faults (a checkpoint an
        // I/O error cuts short, say) and the database is opened again: `integrity` only.
        if !faults.isEmpty {
            let random = faults.contains { $0.rate < 1 }
            let crashes: [CrashKind] = source.properties.contains(.integrity) ? [.none, .kill] : [.kill]
            for seed in random ? seeds : [source.faultSeed] {
                ladder += crashes.map { ShrinkSetting(faults: faults, faultSeed: seed, crash: $0) }
            }
        }
        // A power loss, where the run had one and SQLite promises to survive it; its
        // garbling is drawn from the fault seed, so several are tried, with no fault first.
        if source.faults.losesPower && Self.promisesDurability(source.log.synchronous) {
            ladder += seeds.map { ShrinkSetting(faultSeed: $0, crash: .powerLoss) }
            if !source.faults.faults.isEmpty {
                ladder += seeds.map { ShrinkSetting(faults: source.faults.faults, faultSeed: $0, crash: .powerLoss) }
            }
        }
        return ladder
    }

    /// The first property of `properties` that fails at the first point the writers
    /// are all between units of work, and the index of the atom it fails after.
    private func firstFailure(
        _ atoms: [Atom], setting: ShrinkSetting, properties: [Property]
    ) throws(ToolError) -> (Property, Int)? {
        var ends = Set<Int>()
        for index in atoms.indices where index == atoms.count - 1 || atoms[index + 1].unit != atoms[index].unit {
            ends.insert(index)
        }
        if setting.crash == .powerLoss || (setting.crash == .none && setting.hasFaults) {
            // A power loss ends the replay, and what closing under faults does shows
            // only when the connections close: these are tried at the end only.
            let verdict = try runner.run(atoms.map(\.step), setting: setting, syncs: false).verdict
            return verdict.flatMap { verdict in properties.first(where: verdict.violates) }.map { ($0, atoms.count - 1) }
        }
        var from = 0
        // A point found by the scan is confirmed by replaying the prefix on its own;
        // a few are tried before giving up on this setting.
        for _ in 0..<3 {
            var failing: (Property, Int)?
            var outOfTime = false
            let candidates = ends.filter { $0 >= from }
            guard !candidates.isEmpty else { return nil }
            _ = try runner.run(atoms.map(\.step), setting: setting, syncs: false, checkpoints: candidates) { index, result in
                tick(Progress(phase: "scan", size: index + 1, tests: reducer.testsRun, elapsed: Date().timeIntervalSince(started)))
                if reducer.pastDeadline {
                    outOfTime = true
                    return true
                }
                guard let verdict = result.verdict, let property = properties.first(where: verdict.violates) else { return false }
                failing = (property, index)
                return true
            }
            if outOfTime {
                throw ToolError("the time limit (--time-limit \(Format.number(request.timeLimit))) ran out while the log was "
                    + "replayed to find where it fails; nothing written.")
            }
            guard let (property, index) = failing else { return nil }
            let prefix = atoms[...index].map(\.step)
            if try runner.run(prefix, setting: setting, syncs: false).verdict?.violates(property) == true { return (property, index) }
            from = index + 1
        }
        return nil
    }

    private func fails(_ atoms: [Atom], _ property: Property, _ setting: ShrinkSetting) throws(ToolError) -> Bool {
        try runner.run(atoms.map(\.step), setting: setting, syncs: false).verdict?.violates(property) == true
    }

    /// Rounds of reduction while a round removes anything and the budget lasts.
    private func reduce(_ atoms: [Atom], property: Property, setting: ShrinkSetting) throws(ToolError) -> [Atom] {
        var atoms = atoms
        reducer.progress = { [tick, started] phase, size, tests in
            tick(Progress(phase: phase, size: size, tests: tests, elapsed: Date().timeIntervalSince(started)))
        }
        let test = { [self] (candidate: [Atom]) throws(ToolError) -> Bool in try fails(candidate, property, setting) }
        var round = 0
        while reducer.canTest {
            round += 1
            let before = atoms
            // One connection, if that still fails.
            if Set(atoms.map(\.step.connection)).count > 1 {
                let merged = atoms.map { Atom(step: ScriptStep(connection: 0, action: $0.step.action), unit: $0.unit) }
                if try reducer.check(merged, phase: "connections", test) { atoms = merged }
            }
            // Units of work (transactions, maintenance, connection set-ups), each whole, in the log's order.
            var units: [Int] = []
            var seen: Set<Int> = []
            for atom in atoms where seen.insert(atom.unit).inserted { units.append(atom.unit) }
            let current = atoms
            let keptUnits = try reducer.reduce(units, phase: "transactions") { (candidate: [Int]) throws(ToolError) -> Bool in
                let kept = Set(candidate)
                return try test(current.filter { kept.contains($0.unit) })
            }
            let keptSet = Set(keptUnits)
            atoms = atoms.filter { keptSet.contains($0.unit) }
            report("transactions", before: units.count, after: keptUnits.count)
            let statementsBefore = atoms.count
            atoms = try reducer.reduce(atoms, phase: "statements", test)
            report("statements", before: statementsBefore, after: atoms.count)
            atoms = try reduceColumns(atoms, test)
            atoms = try reduceImages(atoms, test)
            atoms = try reduceRows(atoms, test)
            atoms = try reduceLiterals(atoms, test)
            if atoms == before { break }
            say("round \(round): \(ScriptFile.statementCount(atoms.map(\.step), property: property, crash: setting.crash)) statements, "
                + "\(reducer.testsRun) tests so far")
        }
        return atoms
    }

    private func report(_ phase: String, before: Int, after: Int) {
        if after < before { say("\(phase): \(before) → \(after)") }
    }

    /// Drops columns (not those of a primary key) from tables and every statement on them.
    private func reduceColumns(_ atoms: [Atom], _ test: ([Atom]) throws(ToolError) -> Bool) throws(ToolError) -> [Atom] {
        let tables = atoms.compactMap { $0.step.sql.flatMap(ColumnDrop.table) }
        let columns = tables.flatMap { table in
            table.columns.filter { !table.key.contains($0) }.map { (table: table.name, column: $0) }
        }
        guard !columns.isEmpty else { return atoms }
        func build(_ kept: [(table: String, column: String)]) -> [Atom]? {
            let keep = Set(kept.map { $0.table + "\u{0}" + $0.column })
            var result = atoms
            for (table, column) in columns where !keep.contains(table + "\u{0}" + column) {
                var rewritten: [Atom] = []
                for atom in result {
                    guard let sql = atom.step.sql else {
                        rewritten.append(atom)
                        continue
                    }
                    guard let text = ColumnDrop.rewrite(sql, table: table, column: column) else { return nil }
                    if text.isEmpty { continue }
                    var changed = atom
                    changed.step.action = .sql(text)
                    rewritten.append(changed)
                }
                result = rewritten
            }
            return result
        }
        let kept = try reducer.reduce(columns, phase: "columns") { (candidate: [(table: String, column: String)]) throws(ToolError) -> Bool in
            guard let built = build(candidate) else { return false }
            return try test(built)
        }
        report("columns", before: columns.count, after: kept.count)
        return build(kept) ?? atoms
    }

    /// Writes the ledger triggers' row images with `quote()` for reals where the failure stays.
    private func reduceImages(_ atoms: [Atom], _ test: ([Atom]) throws(ToolError) -> Bool) throws(ToolError) -> [Atom] {
        var images: [(atom: Int, occurrence: Int)] = []
        for (index, atom) in atoms.enumerated() {
            guard let sql = atom.step.sql, sql.hasPrefix("CREATE") else { continue }
            images += ImageExpression.occurrences(in: sql).indices.map { (index, $0) }
        }
        guard !images.isEmpty else { return atoms }
        // The reducer removes from the list the expressions it simplifies.
        func build(_ kept: [(atom: Int, occurrence: Int)]) -> [Atom] {
            var simplified: [Int: Set<Int>] = [:]
            for image in images { simplified[image.atom, default: []].insert(image.occurrence) }
            for image in kept { simplified[image.atom]?.remove(image.occurrence) }
            return atoms.enumerated().map { index, atom in
                guard let sql = atom.step.sql, let quoted = simplified[index], !quoted.isEmpty else { return atom }
                var changed = atom
                changed.step.action = .sql(ImageExpression.quoting(sql, quoted))
                return changed
            }
        }
        let kept = try reducer.reduce(images, phase: "row images") { (candidate: [(atom: Int, occurrence: Int)]) throws(ToolError) -> Bool in
            try test(build(candidate))
        }
        report("row images", before: images.count, after: kept.count)
        return build(kept)
    }

    /// Drops rows of multi-row INSERTs (a statement that loses every row goes).
    private func reduceRows(_ atoms: [Atom], _ test: ([Atom]) throws(ToolError) -> Bool) throws(ToolError) -> [Atom] {
        let tokens = atoms.map { $0.step.sql.map(SQLTokens.init) }
        var rows: [(atom: Int, tuple: Int)] = []
        for (index, parsed) in tokens.enumerated() {
            guard let tuples = parsed?.valueTuples, tuples.count > 1 else { continue }
            rows += tuples.indices.map { (index, $0) }
        }
        guard !rows.isEmpty else { return atoms }
        func build(_ kept: [(atom: Int, tuple: Int)]) -> [Atom] {
            var keptByAtom: [Int: [Int]] = [:]
            for row in kept { keptByAtom[row.atom, default: []].append(row.tuple) }
            return atoms.indices.compactMap { index in
                guard let tuples = tokens[index]?.valueTuples, tuples.count > 1 else { return atoms[index] }
                guard let kept = keptByAtom[index] else { return nil }
                var atom = atoms[index]
                atom.step.action = .sql(tokens[index]!.keepingTuples(kept))
                return atom
            }
        }
        let kept = try reducer.reduce(rows, phase: "rows") { (candidate: [(atom: Int, tuple: Int)]) throws(ToolError) -> Bool in
            try test(build(candidate))
        }
        report("rows of multi-row INSERTs", before: rows.count, after: kept.count)
        return build(kept)
    }

    /// Replaces literals of DML statements with `0`, `''` or `X''` where the failure
    /// stays; then long strings and blobs that must keep their size by an expression of it.
    private func reduceLiterals(_ atoms: [Atom], _ test: ([Atom]) throws(ToolError) -> Bool) throws(ToolError) -> [Atom] {
        let simplified = try replaceLiterals(atoms, phase: "values", with: { SQLTokens.simpler($0) }, test)
        return try replaceLiterals(simplified, phase: "long values", with: { SQLTokens.sized($0) }, test)
    }

    private func replaceLiterals(
        _ atoms: [Atom], phase: String, with replacement: (SQLTokens.Token) -> String?,
        _ test: ([Atom]) throws(ToolError) -> Bool
    ) throws(ToolError) -> [Atom] {
        let dml = ["INSERT", "REPLACE", "UPDATE", "DELETE", "SELECT", "WITH"]
        let tokens = atoms.map { atom -> SQLTokens? in
            guard let sql = atom.step.sql, let word = sql.split(separator: " ").first, dml.contains(word.uppercased()) else { return nil }
            return SQLTokens(sql)
        }
        var literals: [(atom: Int, token: Int)] = []
        for (index, parsed) in tokens.enumerated() {
            guard let parsed else { continue }
            literals += parsed.literals.filter { replacement(parsed.tokens[$0]) != nil }.map { (index, $0) }
        }
        guard !literals.isEmpty else { return atoms }
        // The reducer removes from the list the literals it simplifies.
        func build(_ kept: [(atom: Int, token: Int)]) -> [Atom] {
            let keep = Set(kept.map { $0.atom << 32 | $0.token })
            return atoms.indices.map { index in
                guard var parsed = tokens[index] else { return atoms[index] }
                for token in parsed.literals where !keep.contains(index << 32 | token) {
                    if let replaced = replacement(parsed.tokens[token]) { parsed.tokens[token].text = Substring(replaced) }
                }
                var atom = atoms[index]
                atom.step.action = .sql(parsed.text)
                return atom
            }
        }
        let kept = try reducer.reduce(literals, phase: phase) { (candidate: [(atom: Int, token: Int)]) throws(ToolError) -> Bool in
            try test(build(candidate))
        }
        report(phase, before: literals.count, after: kept.count)
        return build(kept)
    }

    /// The smallest fault setting that still fails: none; each kind alone; halved rates.
    private func smallestFaults(_ atoms: [Atom], property: Property, setting: ShrinkSetting) throws(ToolError) -> ShrinkSetting {
        let test = { [self] (setting: ShrinkSetting) throws(ToolError) -> Bool in
            try reducer.check(atoms, phase: "faults") { (candidate: [Atom]) throws(ToolError) -> Bool in
                try fails(candidate, property, setting)
            }
        }
        var best = setting
        var none = setting
        none.faults = []
        if setting.crash == .powerLoss, try test(ShrinkSetting(crash: .kill)) { return ShrinkSetting(crash: .kill) }
        if try test(none) { return none }
        if best.faults.count > 1 {
            for spec in best.faults {
                var alone = best
                alone.faults = [spec]
                if try test(alone) {
                    best = alone
                    break
                }
            }
        }
        for index in best.faults.indices {
            for _ in 0..<8 {
                var lower = best
                lower.faults[index].rate = best.faults[index].rate / 2
                guard try test(lower) else { break }
                best = lower
            }
        }
        return best
    }

    private func write(_ text: String, to path: String) throws(ToolError) {
        let temporary = path + ".tmp-\(getpid())"
        do {
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        } catch {
            unlink(temporary)  // What a full disk let through is no script.
            throw ToolError("cannot write \(path): \(ToolError.reason(error)).")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ToolError("cannot write \(path): \(reason).")
        }
    }
}
