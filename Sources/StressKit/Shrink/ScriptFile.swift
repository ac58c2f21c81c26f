#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A script `shrink` writes: the text the `sqlite3` shell runs, and the same
/// script read back by `shrink --verify`.
///
/// The file holds, in order: comments for the reader (what fails, how to run
/// it, what SQLite promises and what it printed); one machine-readable line
/// (`-- sqlite-stress shrink: property=… crash=… faults=… fault-seed=…`);
/// `.output /dev/null` and the removal of old files; the workload, one
/// statement or dot-command per line; the crash (`.shell cp …`); and the
/// check, whose one output line is the verdict.
public struct ScriptFile: Sendable {
    /// The first characters of every script `shrink` writes.
    public static let headerPrefix = "-- sqlite-stress shrink script"
    static let settingPrefix = "-- sqlite-stress shrink: "
    static let checkMarker = "-- Check:"

    public var property: Property
    public var setting: ShrinkSetting
    public var steps: [ScriptStep]

    /// Renders the script. `tables` and `copied` come from the run that judged the
    /// steps (the live tables to compare, the files the crash copied); `comments`
    /// are the reader's lines at the top.
    func render(comments: [String], tables: [ShrinkOracle.Table], copied: [String]) -> String {
        let db = ScriptRunner.databaseName, crashed = ScriptRunner.crashedName
        var lines = [Self.headerPrefix] + comments.map { $0.isEmpty ? "--" : "-- " + $0 }
        lines.append(Self.settingPrefix + "property=\(property.rawValue) " + setting.headerFields)
        lines.append(".output /dev/null")
        let files = [db, crashed].flatMap { name in ([""] + DatabaseFile.sidecarSuffixes).map { name + $0 } } + [ScriptRunner.copyName]
        lines.append(".shell rm -f " + files.joined(separator: " "))
        var current = 0
        var opened: Set<Int> = []
        for step in steps {
            if step.connection != current {
                lines.append(".connection \(step.connection)")
                current = step.connection
            }
            switch step.action {
            case .reopen:
                lines.append(".open \(db)")
                opened.insert(current)
            case .sql(let sql):
                if !opened.contains(current) {
                    lines.append(".open \(db)")
                    opened.insert(current)
                }
                // VACUUM INTO fails on a file that exists: each writes a fresh copy.
                if Replay.isVacuumInto(sql) { lines.append(".shell rm -f " + ScriptRunner.copyName) }
                lines.append(sql + ";")
            }
        }
        switch setting.crash {
        case .none:
            lines.append(Self.checkMarker + " PRAGMA integrity_check of the database as the workload left it, opened again.")
            for slot in opened.sorted() where slot != current { lines.append(".connection close \(slot)") }
            lines.append(".open \(db)")
        case .kill:
            lines.append(Self.checkMarker + " the crash — the files copied exactly as a crash (SIGKILL) right now would leave them —")
            lines.append("-- then the copy, recovered by SQLite as it opens, against what was committed.")
            lines.append(".shell " + copied.map { "cp \(db)\($0) \(crashed)\($0)" }.joined(separator: " && "))
        case .powerLoss:
            lines.append(Self.checkMarker + " a power loss right now, then the files it leaves against what was committed.")
            lines.append("-- The shell cannot cut the power: `sqlite-stress shrink --verify` runs this script and does.")
            return lines.joined(separator: "\n") + "\n"
        }
        lines.append(".output stdout")
        for sql in ShrinkOracle.renderedCheck(property, crash: setting.crash, tables: tables, crashedFile: crashed) {
            lines.append(sql + ";")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads a script `shrink` wrote; one sentence when the file is not one.
    public static func read(_ path: String) throws(ToolError) -> ScriptFile {
        guard FileManager.default.fileExists(atPath: path) else { throw ToolError("\(path) does not exist.") }
        guard DatabaseFile.starts(path, with: headerPrefix), let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ToolError("\(path) is not a script written by sqlite-stress shrink.")
        }
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws(ToolError) -> ScriptFile {
        let damaged = ToolError("\(path) is not a script written by sqlite-stress shrink (its setting line is damaged).")
        var property: Property?
        var setting: ShrinkSetting?
        var steps: [ScriptStep] = []
        var current = 0
        var opened: Set<Int> = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix(settingPrefix) {
                var fields: [Substring: Substring] = [:]
                for field in line.dropFirst(settingPrefix.count).split(separator: " ") {
                    guard let equals = field.firstIndex(of: "=") else { throw damaged }
                    fields[field[..<equals]] = field[field.index(after: equals)...]
                }
                guard let name = fields["property"], let parsed = Property(rawValue: String(name)),
                      let crashName = fields["crash"], let crash = CrashKind(rawValue: String(crashName)),
                      let faultsText = fields["faults"], let seedText = fields["fault-seed"], let seed = Seed.parse(String(seedText))
                else { throw damaged }
                var faults: [FaultSpec] = []
                if faultsText != "none" {
                    for spec in faultsText.split(separator: ",") { faults.append(try FaultSpec.parse(String(spec))) }
                }
                property = parsed
                setting = ShrinkSetting(faults: faults, faultSeed: seed, crash: crash)
                continue
            }
            if line.hasPrefix(checkMarker) { break }
            if line.hasPrefix("--") || line.hasPrefix(".output") || line.hasPrefix(".shell") { continue }
            if line.hasPrefix(".connection ") {
                guard let slot = Int(line.dropFirst(".connection ".count)) else { throw damaged }
                current = slot
            } else if line.hasPrefix(".open ") {
                // The first .open of a connection opens it; a later one closes it and opens it again.
                if !opened.insert(current).inserted { steps.append(ScriptStep(connection: current, action: .reopen)) }
            } else if line.hasSuffix(";") {
                opened.insert(current)
                steps.append(.sql(String(line.dropLast()), on: current))
            } else {
                throw ToolError("\(path): cannot read the line '\(line.prefix(80))' (one statement per line, ending in ';').")
            }
        }
        guard let property, let setting else { throw damaged }
        return ScriptFile(property: property, setting: setting, steps: steps)
    }

    /// `steps` without reopening a connection before its first use (which the
    /// script's first `.open` of it does anyway): the form a script reads back as.
    static func normalized(_ steps: [ScriptStep]) -> [ScriptStep] {
        var opened: Set<Int> = []
        return steps.filter { step in
            opened.insert(step.connection).inserted ? step.action != .reopen : true
        }
    }

    /// SQL statements in the rendered script, the check included.
    static func statementCount(_ steps: [ScriptStep], property: Property, crash: CrashKind) -> Int {
        let check = switch crash {
        case .none: 1
        case .kill: 2
        case .powerLoss: 0
        }
        return steps.count { $0.sql != nil } + check
    }
}
