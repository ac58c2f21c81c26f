#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An SQL log read as the script `shrink` starts from: every statement in the
/// order the log holds it (for writers, their execution order), each writer on
/// a connection of its own, the units of work it ran, and what its header says
/// about the run (seed, faults).
struct ShrinkLog {
    var atoms: [Atom]
    /// Statements in the log.
    var statements: Int
    /// The run's seed, from the header.
    var seed: UInt64?
    /// The faults the run injected, from the header (`-- faults: io-error:0.01, power loss`).
    var faults: [FaultSpec]
    /// Whether the run lost power (`--crash`, or a lying fsync's power loss at the end).
    var losesPower: Bool
    /// The run's synchronous level (`full`…), from the header's configuration line.
    var synchronous: String?
    /// Writers (threads, the setup, drivers) in order of appearance.
    var writers: [String]

    /// Reads the log at `path`; one sentence when it is not an SQL log of this tool.
    static func read(_ path: String) throws(ToolError) -> ShrinkLog {
        guard FileManager.default.fileExists(atPath: path) else { throw ToolError("the SQL log \(path) does not exist.") }
        guard DatabaseFile.starts(path, with: SQLLog.headerPrefix) else {
            throw ToolError("\(path) is not an SQL log written by sqlite-stress.")
        }
        var text = ""
        for file in try SQLLog.files(of: path) {  // A rotated log: `<log>.1`, then `<log>`.
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: file))
            } catch {
                throw ToolError("cannot read the SQL log \(file): \(ToolError.reason(error)).")
            }
            // The bytes after the last newline are a line whose write was cut short
            // (its writer killed inside it): no line, as the replay leaves it (`LogReader`).
            let lines = data[..<(data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? data.startIndex)]
            guard let part = String(data: lines, encoding: .utf8) else {
                throw ToolError("cannot read the SQL log \(file): it is not UTF-8 text.")
            }
            text += part
        }
        return try parse(text)
    }

    /// Splits a statement line into its SQL, writer and unit label (`t0 x17 ok` → t0, x17);
    /// nil for comment lines. The comment is the last `; -- ` of the line.
    static func entry(_ line: Substring) -> (sql: String, writer: String, label: String)? {
        guard !line.hasPrefix("--"), let marker = line.ranges(of: "; -- ").last else { return nil }
        let words = line[marker.upperBound...].split(separator: " ", maxSplits: 2)
        guard words.count == 3 else { return nil }
        return (String(line[..<marker.lowerBound]), String(words[0]), String(words[1]))
    }

    /// The writer whose connection closed at a comment line: a reconnect
    /// (`-- t0 x5 reconnect`) or a connection abandoned after a failed ROLLBACK.
    static func closedConnection(_ line: Substring) -> String? {
        let words = line.split(separator: " ")
        guard words.count >= 4, words[0] == "--" else { return nil }
        if words.count == 4 && words[3] == "reconnect" { return String(words[1]) }
        if words[3] == "connection" && words.count > 4 && words[4] == "abandoned" { return String(words[1]) }
        return nil
    }

    static func parse(_ text: String) throws(ToolError) -> ShrinkLog {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(SQLLog.intact)
        var seed: UInt64?
        var faults: [FaultSpec] = []
        var losesPower = false
        var synchronous: String?
        // Each writer's last line: a writer whose work is over hands its connection on.
        var lastLine: [String: Int] = [:]
        var parsed: [(index: Int, entry: (sql: String, writer: String, label: String)?, closed: String?)] = []
        for (index, line) in lines.enumerated() {
            if line.hasPrefix(SQLLog.headerPrefix) {
                for word in line.split(separator: " ") where word.hasPrefix("seed=") {
                    seed = Seed.parse(String(word.dropFirst(5)))
                }
                continue
            }
            if line.hasPrefix("-- configuration: ") {
                for word in line.split(separator: " ") where word.hasPrefix("synchronous=") {
                    synchronous = String(word.dropFirst("synchronous=".count))
                }
                continue
            }
            if line.hasPrefix("-- faults: ") {
                // FaultPlan.summary: the specs, then "power loss" or "power loss at the end".
                for part in line.dropFirst("-- faults: ".count).split(separator: ", ") {
                    if part.hasPrefix("power loss") {
                        losesPower = true
                    } else {
                        faults.append(try FaultSpec.parse(String(part)))
                    }
                }
                continue
            }
            if let entry = entry(line) {
                lastLine[entry.writer] = index
                parsed.append((index, entry, nil))
            } else if let writer = closedConnection(line) {
                parsed.append((index, nil, writer))
            }
        }

        var atoms: [Atom] = []
        var writers: [String] = []
        var slotOf: [String: Int] = [:]
        var slotWriters: [String?] = []
        var unit = -1
        // Each writer's current unit: its label and number. Another writer's
        // statements in between (a multi-threaded log) do not end it.
        var current: [String: (label: String, unit: Int)] = [:]
        var statements = 0
        for (index, entry, closed) in parsed {
            if let closed, let slot = slotOf[closed] {
                unit += 1
                current[closed] = nil
                atoms.append(Atom(step: ScriptStep(connection: slot, action: .reopen), unit: unit))
                continue
            }
            guard let entry else { continue }
            statements += 1
            if slotOf[entry.writer] == nil {
                writers.append(entry.writer)
                // The lowest connection whose writer is done: the original closed it first.
                if let free = slotWriters.indices.first(where: { slotWriters[$0].map { lastLine[$0]! < index } ?? true }) {
                    slotWriters[free] = entry.writer
                    slotOf[entry.writer] = free
                    unit += 1
                    atoms.append(Atom(step: ScriptStep(connection: free, action: .reopen), unit: unit))
                } else {
                    slotOf[entry.writer] = slotWriters.count
                    slotWriters.append(entry.writer)
                }
            }
            if current[entry.writer]?.label != entry.label {
                unit += 1
                current[entry.writer] = (entry.label, unit)
            }
            // A VACUUM INTO writes the script's own copy, never the file the run wrote beside its database.
            let sql = Replay.vacuumInto(entry.sql, writingTo: ScriptRunner.copyName)
            atoms.append(Atom(step: .sql(sql, on: slotOf[entry.writer]!), unit: current[entry.writer]!.unit))
        }
        return ShrinkLog(
            atoms: atoms, statements: statements, seed: seed, faults: faults, losesPower: losesPower, synchronous: synchronous,
            writers: writers)
    }
}
