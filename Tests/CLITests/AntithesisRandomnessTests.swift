import Foundation
import Testing

/// Inside Antithesis (libvoidstar loaded) with no seed, every command takes every
/// choice from `fuzz_get_random`; with a seed, it never calls it. The stand-in
/// libvoidstar counts the draws and gives the same values for the same start.
@Suite struct AntithesisRandomnessTests {
    /// Runs `arguments` (which end in `--db`) with the stand-in from `state`;
    /// returns the result and the SQL log.
    func run(_ scratch: Scratch, _ name: String, state: UInt64?, _ arguments: [String], extra: [String: String] = [:]) throws
        -> (CommandResult, String)
    {
        let db = scratch.file("\(name).db").path
        var environment = StandIn.environment(scratch, name, state: state)
        for (key, value) in extra { environment[key] = value }
        let result = try CLI.run(arguments + ["--db", db], environment: environment)
        #expect(result.status == 0, "\(name): \(result.stderr)\(result.stdout)")
        return (result, (try? String(contentsOfFile: db + ".sql", encoding: .utf8)) ?? "")
    }

    // stress with no seed draws from Antithesis, and only from it: the same
    // stand-in sequence gives a byte-identical SQL log (schema, configuration,
    // swarm, every statement and value), another sequence a different one. The
    // output says where the randomness came from and offers no reproduce line.
    @Test func stressTakesEveryChoiceFromAntithesis() throws {
        let scratch = try Scratch()
        let arguments = ["stress", "--iterations", "40", "--check-every", "20"]
        let (first, log) = try run(scratch, "a", state: 1, arguments)
        let (_, same) = try run(scratch, "b", state: 1, arguments)
        let (_, other) = try run(scratch, "c", state: 2, arguments)
        #expect(StandIn.draws(scratch, "a") > 1)
        #expect(StandIn.draws(scratch, "a") == StandIn.draws(scratch, "b"))
        #expect(log == same)
        #expect(log != other)
        #expect(log.hasPrefix("-- sqlite-stress stress randomness=antithesis "), "\(log.prefix(200))")
        #expect(!log.contains("seed="))
        let lines = first.stdout.split(separator: "\n")
        #expect(lines.first == "sqlite-stress stress: randomness from Antithesis")
        #expect(lines.dropFirst().first?.hasPrefix("reproduce: no seed reproduces this run") == true)

        let (json, _) = try run(scratch, "d", state: 1, arguments + ["--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["randomness"] as? String == "antithesis")
        #expect(document["seed"] == nil)
        #expect(document["reproduce"] == nil)
    }

    // schema with no seed draws its schema and configuration from Antithesis, and only from it.
    @Test func schemaTakesEveryChoiceFromAntithesis() throws {
        let scratch = try Scratch()
        let (first, log) = try run(scratch, "a", state: 7, ["schema"])
        let (_, same) = try run(scratch, "b", state: 7, ["schema"])
        let (_, other) = try run(scratch, "c", state: 8, ["schema"])
        #expect(StandIn.draws(scratch, "a") > 1)
        #expect(log == same)
        #expect(log != other)
        #expect(log.hasPrefix("-- sqlite-stress schema randomness=antithesis "), "\(log.prefix(200))")
        #expect(first.stdout.hasPrefix("sqlite-stress schema: randomness from Antithesis\n"))
        // A check of that database says how it was made.
        let check = try CLI.run(["check", "--db", scratch.file("a.db").path, "--seed", "1"])
        #expect(check.status == 0)
        #expect(check.stdout.hasPrefix("sqlite-stress check: "))
        #expect(check.stdout.split(separator: "\n").first?.hasSuffix("(database created with randomness from Antithesis)") == true)
    }

    // The fault VFS's decisions come from Antithesis too: the same stand-in
    // sequence injects the same faults at the same operations, another does not.
    @Test func faultsComeFromAntithesis() throws {
        let scratch = try Scratch()
        func events(_ name: String, state: UInt64) throws -> String {
            let arguments = ["stress", "--iterations", "30", "--journal-mode", "delete", "--fault", "io-error:0.05", "--json"]
            let (result, _) = try run(scratch, name, state: state, arguments)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let faults = try #require(document["faults"] as? [String: Any])
            let events = try #require(faults["events"] as? [[String: Any]])
            #expect(!events.isEmpty, "\(name): no fault injected")
            return String(decoding: try JSONSerialization.data(withJSONObject: events, options: .sortedKeys), as: UTF8.self)
        }
        let first = try events("a", state: 3)
        #expect(try events("b", state: 3) == first)
        #expect(try events("c", state: 4) != first)
    }

    // check draws its random predicates from Antithesis, and says so.
    @Test func checkTakesItsPredicatesFromAntithesis() throws {
        let scratch = try Scratch()
        let db = scratch.file("checked.db").path
        #expect(try CLI.run(["stress", "--iterations", "30", "--seed", "2", "--db", db]).status == 0)
        let result = try CLI.run(["check", "--db", db, "--json"], environment: StandIn.environment(scratch, "check", state: 1))
        #expect(result.status == 0, "\(result.stdout)")
        #expect(StandIn.draws(scratch, "check") > 1)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(document["randomness"] as? String == "antithesis")
        #expect(document["seed"] == nil)
        #expect(document["creationSeed"] as? String == "0x0000000000000002")
        let seeded = try CLI.run(["check", "--db", db, "--seed", "9"], environment: StandIn.environment(scratch, "seeded", state: 1))
        #expect(seeded.status == 0)
        #expect(StandIn.draws(scratch, "seeded") == 0)
    }

    // A seed, given or from $SQLITE_STRESS_SEED, wins over Antithesis: not one
    // draw, and the run is the one the seed gives without libvoidstar.
    @Test func aSeedMeansNoDraws() throws {
        let scratch = try Scratch()
        let (_, seeded) = try run(scratch, "stress", state: 1, ["stress", "--iterations", "40", "--seed", "0x5eed"])
        let (_, fromEnvironment) = try run(
            scratch, "environment", state: 1, ["stress", "--iterations", "40"], extra: ["SQLITE_STRESS_SEED": "0x5eed"])
        _ = try run(scratch, "schema", state: 1, ["schema", "--seed", "3"])
        for name in ["stress", "environment", "schema"] {
            #expect(StandIn.draws(scratch, name) == 0, "\(name) drew \(StandIn.draws(scratch, name)) values")
        }
        let plain = scratch.file("plain.db").path
        #expect(try CLI.run(["stress", "--iterations", "40", "--seed", "0x5eed", "--db", plain]).status == 0)
        let log = try String(contentsOfFile: plain + ".sql", encoding: .utf8)
        #expect(seeded == log)
        #expect(fromEnvironment == log)
        #expect(log.hasPrefix("-- sqlite-stress stress seed=0x0000000000005eed "))
    }
}
