import Foundation
import Testing

/// Antithesis counts a declared `must_hit` assertion that nothing hits as a
/// failing property, so a template passes only if its commands reach what they
/// declare. Each template in composer/ runs under `compose` on several seeds.
@Suite struct TemplateCoverageTests {
    /// `sometimes` items that one run (one Antithesis timeline) may legitimately
    /// miss; Antithesis's many timelines cover them. Everything else must be hit
    /// in every run.
    static let probabilistic: [String: String] = [
        "coverage: SQLITE_BUSY was met":
            "needs two connections to collide in time: scheduling decides, not the seed",
        "coverage: a WAL checkpoint moved frames into the database":
            "the database's journal mode is drawn (WAL one time in four) and checkpoints are a swarm choice",
        "coverage: a connection was reopened":
            "reconnects are a swarm choice, left out of some runs and drivers",
        "coverage: a statement met a schema another connection had changed":
            "needs another connection to change the schema between two statements of this one: scheduling decides",
        "coverage: a schema change committed":
            "schema changes are a swarm choice of the monolith; a short composed run may start no driver that makes one",
        "coverage: a schema change was rolled back":
            "schema rollbacks are a swarm choice of the monolith; a short composed run may not start schema-rollback",
        "coverage: a VACUUM INTO copy was checked":
            "VACUUM INTO is a swarm choice, and a vacuum driver draws it or another vacuum at random",
    ]
    /// Per template, items that its short local runs may miss on top of those.
    static let probabilisticIn: [String: [String: String]] = [
        "composed": [
            "coverage: a row large enough for overflow pages was written":
                "a short run may start no insert, update or rollback driver whose values reach 8 KB",
            "coverage: a constraint failed":
                "a short run may start no insert or update driver that meets a unique key or CHECK, among sixteen drivers",
        ],
    ]

    static let templates = (try? FileManager.default.contentsOfDirectory(
        atPath: CLI.packageRoot.appendingPathComponent("composer").path))?.sorted() ?? []

    // Every must-hit assertion a template's commands declare is hit in every run,
    // but for the named probabilistic items; nothing fails.
    @Test(arguments: templates)
    func everyMustHitIsReachable(_ template: String) throws {
        let exempt = Self.probabilistic.merging(Self.probabilisticIn[template] ?? [:]) { $1 }
        // Every exemption names something the template declares in some run (a
        // command that never ran in one short run declares nothing there).
        var declaredSomewhere = Set<String>()
        for seed in ["1", "2", "3"] {
            let scratch = try Scratch()
            let run = scratch.file("run")
            let result = try CLI.run(
                ["compose", CLI.packageRoot.appendingPathComponent("composer/\(template)").path, "--seed", seed, "--runs", "8",
                 "--run-dir", run.path, "-q"])
            #expect(result.status == 0, "\(template) seed \(seed): \(result.stdout.suffix(2000))")
            let report = try ComposeTests.report(run)
            let assertions = try #require(report["assertions"] as? [[String: Any]])
            #expect(!assertions.isEmpty)
            declaredSomewhere.formUnion(assertions.compactMap { $0["id"] as? String })
            for assertion in assertions where assertion["mustHit"] as? Bool == true {
                let id = assertion["id"] as? String ?? "?"
                let verdict = assertion["verdict"] as? String
                if exempt[id] != nil {
                    #expect(verdict != "failed", "\(template) seed \(seed): \(id) failed")
                } else {
                    #expect(verdict == "passed", "\(template) seed \(seed): \(id) is \(verdict ?? "?")")
                }
            }
        }
        // Every exemption names a real assertion: one the template declared in
        // these runs, or — for one only a driver declares that these short runs
        // did not start (the composed template has seventeen) — one the
        // product's sources declare.
        for id in exempt.keys where !declaredSomewhere.contains(id) {
            #expect(try Self.sourcesDeclare(id), "the exemption of '\(id)' names no assertion \(template) or the product declares")
        }
    }

    /// Whether an assertion named `id` is declared in Sources/ (its message is a literal there).
    static func sourcesDeclare(_ id: String) throws -> Bool {
        let sources = CLI.packageRoot.appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }
        return try files.filter { $0.hasSuffix(".swift") }.contains { file in
            try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8).contains("\"" + id + "\"")
        }
    }
}
