import StressSQLite
/// What `shrink` made of a failing run, for the terminal, `--json` and the script's own comments.
public struct ShrinkOutcome: Sendable {
    /// The failing run (its command line) or the log shrunk.
    public var source: String
    /// The property the script fails; nil when nothing reproduced and none was asked for.
    public var property: Property?
    /// Every property the run violated (empty when only a log was given).
    public var violated: [Property]
    public var notes: [String]
    public var originalStatements: Int
    /// Why the failure could not be reproduced from the log; nil when a script was written.
    public var notReproduced: String?

    public var setting: ShrinkSetting?
    /// The faults the run itself injected.
    public var originalFaults = FaultPlan()
    /// SQL statements in the script (its final check included).
    public var statements = 0
    public var tests = 0
    public var elapsed = 0.0
    /// The budget that ran out ("the test budget", "the time limit"), if one did: the script may not be minimal.
    public var exhausted: String?
    /// The oracle's verdict on the script, on this library.
    public var verdict = ShrinkVerdict()
    /// What the fault-injecting VFS did during the last run of the script.
    public var faultsInjected: [FaultEvent] = []
    public var scriptPath = ""
    /// Other SQLite releases the script ran on (`ReleaseCheck`).
    public var releases: [ReleaseCheck.Outcome] = []

    public var produced: Bool { notReproduced == nil }

    /// The command that shows the failure from the script: the `sqlite3` shell
    /// when no fault is needed, else `sqlite-stress shrink --verify`.
    public var verifyCommand: String {
        guard let setting else { return "" }
        let path = DatabaseFile.shellQuote(DatabaseFile.canonical(scriptPath))
        if setting.needsVFS {
            return (["sqlite-stress"] + SQLiteChoice.reproduceArguments).map(DatabaseFile.shellQuote).joined(separator: " ")
                + " shrink --verify " + path
        }
        return "cd \"$(mktemp -d)\" && \(DatabaseFile.shellQuote(ReleaseCheck.shell)) < \(path)"
    }

    /// The verdict line the script prints on this library.
    public var observed: String {
        guard let property, let setting else { return "" }
        return verdict.sentence(property, crash: setting.crash)
    }

    /// The verdict line SQLite's promise calls for.
    public var expected: String {
        guard let property, let setting else { return "" }
        return verdict.promised.sentence(property, crash: setting.crash)
    }

    /// The reader's comments at the top of the script (nothing that varies between runs of shrink).
    var scriptComments: [String] {
        guard let property, let setting else { return [] }
        var lines = [
            "\(property == .integrity ? "An" : "A") \(property.rawValue) failure of SQLite \(SQLiteChoice.library.version) (source id \(SQLiteChoice.library.sourceId)),",
            "found by: \(source)",
            "and reduced by sqlite-stress shrink from \(originalStatements) statements to \(statements).",
            "",
        ]
        if setting.needsVFS {
            let needs = [setting.hasFaults ? "a storage fault (\(setting.faults.map(\.description).joined(separator: ", ")))" : nil,
                         setting.crash == .powerLoss ? "a power loss right after the last statement" : nil].compactMap { $0 }
            lines += [
                "It needs \(needs.joined(separator: " and ")), which the shell cannot bring about: sqlite-stress's",
                "fault-injecting VFS does, its choices drawn from fault seed \(Seed.format(setting.faultSeed)). Run it with:",
                "    sqlite-stress shrink --verify <this file>",
            ]
        } else {
            lines += [
                "No fault is needed" + (setting.crash == .kill ? ", only a crash right after the last statement (the files copied, as a SIGKILL leaves them)." : "."),
                "Run it in an empty directory with the sqlite3 shell of the SQLite under test:",
                "    sqlite3 < <this file>",
            ]
        }
        lines += ["It prints one line. SQLite promises:", "    \(expected)"]
        if let unreadable = verdict.unreadable {
            lines += ["SQLite \(SQLiteChoice.library.version) cannot read the database and reports an error instead:", "    \(unreadable)"]
        } else {
            lines += ["SQLite \(SQLiteChoice.library.version) printed:", "    \(observed)"]
        }
        return lines
    }

    public var text: String {
        var lines = ["shrink: \(source)", SQLiteChoice.line]
        lines += notes.map { "note: \($0)" }
        if let notReproduced {
            if violated.isEmpty {
                lines.append("result: NOT REPRODUCED — \(notReproduced); no script written")
            } else {
                lines.append("result: NOT REPRODUCED — the run fails \(violated.map(\.rawValue).joined(separator: ", ")), but "
                    + "\(notReproduced); the failure depends on what the log does not hold (the timing of several "
                    + "writers, faults that struck the run's own checks, a power loss part way); no script written")
            }
            return lines.joined(separator: "\n")
        }
        guard let property, let setting else { return lines.joined(separator: "\n") }
        lines.append("property: \(property.rawValue)" + (violated.count > 1 ? " (the run also violated \(violated.filter { $0 != property }.map(\.rawValue).joined(separator: ", ")))" : ""))
        var settingLine = "setting: \(setting)"
        if !originalFaults.isEmpty && setting.faults.isEmpty {
            settingLine += " — the run's faults (\(originalFaults.summary)) are not needed"
        }
        lines.append(settingLine)
        if setting.needsVFS {
            lines.append("faults injected by the script: \(faultsInjected.count)"
                + (faultsInjected.isEmpty ? "" : " (" + faultsInjected.prefix(3).map(\.description).joined(separator: "; ") + ")"))
        }
        lines.append("script: \(scriptPath) — \(statements) statements (from \(originalStatements)), \(tests) tests, \(Format.fixed(elapsed, 0)) s"
            + (exhausted.map { "; stopped by \($0), so it may not be minimal" } ?? ""))
        lines.append("prints: \(observed)")
        lines.append("SQLite promises: \(expected)")
        if !releases.isEmpty {
            lines.append("release: SQLite \(SQLiteChoice.library.version) (this one, \(SQLiteChoice.library.path)) fails — \(observed)")
        }
        for release in releases { lines.append("release: \(release.line)") }
        lines.append("verify: \(verifyCommand)")
        return lines.joined(separator: "\n")
    }

    public func json() -> String {
        struct Release: Encodable {
            let version: String, directory: String, result: String, line: String
        }
        struct Document: Encodable {
            let command: String, result: String, source: String
            let property: String?, violated: [String], notes: [String], originalStatements: Int
            let notReproduced: String?
            let script: String?, statements: Int?, tests: Int?, exhausted: String?
            let faults: [String]?, faultSeed: String?, crash: String?, faultsInjected: Int?
            let prints: String?, expected: String?, verify: String?
            let releases: [Release]
            let sqlite: SQLiteLibrary
        }
        let made = produced ? self : nil
        return prettyJSON(Document(
            command: "shrink", result: produced ? "script" : "not-reproduced", source: source, property: property?.rawValue,
            violated: violated.map(\.rawValue), notes: notes, originalStatements: originalStatements, notReproduced: notReproduced,
            script: made?.scriptPath, statements: made?.statements, tests: made?.tests, exhausted: exhausted,
            faults: made?.setting?.faults.map(\.description), faultSeed: made?.setting.map { Seed.format($0.faultSeed) },
            crash: made?.setting?.crash.rawValue, faultsInjected: made?.faultsInjected.count,
            prints: made?.observed, expected: made?.expected, verify: made?.verifyCommand,
            releases: releases.map { Release(version: $0.version, directory: $0.directory, result: $0.result.rawValue, line: $0.line) },
            sqlite: SQLiteChoice.library))
    }
}
