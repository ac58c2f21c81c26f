import StressSQLite

/// `sqlite-stress shrink --verify SCRIPT`: runs a script `shrink` wrote, under
/// the fault and crash setting its header names, and says whether it still
/// fails its property — on this process's SQLite, so `--sqlite DIR` asks another release.
public struct ScriptVerification: Sendable {
    public var path: String
    public var property: Property
    public var setting: ShrinkSetting
    public var verdict: ShrinkVerdict
    public var faultsInjected: Int

    /// Whether the script still fails its property.
    public var fails: Bool { verdict.violates(property) }

    public static func run(_ path: String) throws(ToolError) -> ScriptVerification {
        let script = try ScriptFile.read(path)
        let work = try WorkDirectory()
        let result = try ScriptRunner(directory: work.path).run(script.steps, setting: script.setting)
        guard let verdict = result.verdict else {
            throw ToolError("\(path) ends inside a transaction or never opens its database, so it judges nothing.")
        }
        return ScriptVerification(
            path: path, property: script.property, setting: script.setting, verdict: verdict,
            faultsInjected: result.faultsInjected.count)
    }

    public func json() -> String {
        struct Document: Encodable {
            let command: String, result: String, script: String, property: String
            let faults: [String], faultSeed: String, crash: String, faultsInjected: Int
            let prints: String, sqlite: SQLiteLibrary
        }
        return prettyJSON(Document(
            command: "shrink --verify", result: fails ? "fail" : "pass", script: path, property: property.rawValue,
            faults: setting.faults.map(\.description), faultSeed: Seed.format(setting.faultSeed), crash: setting.crash.rawValue,
            faultsInjected: faultsInjected, prints: verdict.sentence(property, crash: setting.crash), sqlite: SQLiteChoice.library))
    }

    public var text: String {
        [
            "verify: \(path) — \(property.rawValue), \(setting)",
            SQLiteChoice.line,
            verdict.sentence(property, crash: setting.crash),
            fails ? "result: FAIL — the script still fails \(property.rawValue)" : "result: PASS — \(property.rawValue) holds",
        ].joined(separator: "\n")
    }
}
