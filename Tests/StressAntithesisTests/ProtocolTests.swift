import Foundation
import Testing

@testable import StressAntithesis

@Suite(.serialized) struct ProtocolTests {
    // JSON text is one line, escaped, in the order given.
    @Test func jsonIsOneEscapedLine() {
        let value: JSON = ["a": "x\"y\\z\n\t\u{01}é", "b": .array([1, true, nil]), "c": .object([])]
        #expect(value.text == #"{"a":"x\"y\\z\n\t\u0001é","b":[1,true,null],"c":{}}"#)
        #expect(JSON.details([:]) == .null)
        #expect(JSON.details(["k": "v"]).text == #"{"k":"v"}"#)
    }

    // The SDK line and the whole catalog come first; then each assertion's first
    // true and first false only; reachability kinds send their fixed condition.
    @Test func catalogFirstThenFirstHits() throws {
        try withLocalOutput { makeOutput, path in
            // A line already there (the entrypoint's setup_complete) must survive.
            try Data("{\"antithesis_setup\":{\"status\":\"complete\",\"details\":null}}\n".utf8).write(to: URL(fileURLWithPath: path))
            let output = makeOutput()
            #expect(output.sink == .file(path: path))

            let always = Assertion(.always, "p holds")
            let sometimes = Assertion(.sometimes, "s happens")
            let unreachable = Assertion(.unreachable, "never here")
            let reporter = Reporter(catalog: [always, sometimes, unreachable], output: output)
            reporter.record(always, true)
            reporter.record(always, true)
            reporter.record(always, false, details: ["table": "t0"])
            reporter.record(always, false)
            reporter.record(sometimes, true)
            reporter.record(unreachable, true)

            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            #expect(objects.count == 1 + 1 + 3 + 4)
            #expect(objects[0]["antithesis_setup"] != nil)
            let sdk = try #require(objects[1]["antithesis_sdk"] as? [String: Any])
            #expect(sdk["protocol_version"] as? String == "1.1.0")
            #expect((sdk["language"] as? [String: Any])?["name"] as? String == "Swift")
            let asserts = objects[2...].map { $0["antithesis_assert"] as! [String: Any] }
            #expect(asserts[0..<3].allSatisfy { $0["hit"] as? Bool == false })
            #expect(asserts[0]["must_hit"] as? Bool == true)
            #expect(asserts[2]["must_hit"] as? Bool == false)
            #expect(asserts[2]["assert_type"] as? String == "reachability")
            let hits = Array(asserts[3...])
            #expect(hits.map { $0["id"] as? String } == ["p holds", "p holds", "s happens", "never here"])
            #expect(hits.map { $0["condition"] as? Bool } == [true, false, true, false])
            #expect((hits[1]["details"] as? [String: String])?["table"] == "t0")
            for hit in hits {
                for field in ["assert_type", "display_type", "condition", "message", "location", "hit", "must_hit", "id", "details"] {
                    #expect(hit[field] != nil, "missing \(field)")
                }
                let location = try #require(hit["location"] as? [String: Any])
                #expect(location["file"] as? String != nil && location["begin_line"] as? Int != nil)
            }
        }
    }

    #if DEBUG
    // Evaluating an assertion the process did not declare is a programming error
    // (Antithesis would never learn of it as must-hit): debug builds stop there.
    @Test func undeclaredAssertionStopsADebugBuild() async {
        await #expect(processExitsWith: .failure) {
            Reporter(catalog: [Assertion(.always, "declared")], output: Output()).record(Assertion(.always, "not declared"), true)
        }
    }
    #endif

    // A reporter's context (which SQLite the process runs on) joins every hit's
    // details, after the hit's own keys; catalog lines carry none.
    @Test func contextJoinsEveryHitsDetails() throws {
        try withLocalOutput { makeOutput, path in
            let always = Assertion(.always, "p holds")
            let reporter = Reporter(catalog: [always], output: makeOutput(), context: [("sqlite_version", "3.50.4")])
            reporter.record(always, true)
            reporter.record(always, false, details: ["table": "t0"])
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 4)
            #expect(lines[1].contains(#""details":null"#))
            #expect(lines[2].contains(#""details":{"sqlite_version":"3.50.4"}"#), "\(lines[2])")
            #expect(lines[3].contains(#""details":{"table":"t0","sqlite_version":"3.50.4"}"#), "\(lines[3])")
        }
    }

    // With no output configured (and no libvoidstar), nothing is written anywhere.
    @Test func noOutputWithoutEnvironment() {
        let output = Output(environment: ["SQLITE_STRESS_VOIDSTAR": "/nonexistent/libvoidstar.so"].lookup)
        #expect(output.sink == .none)
        #expect(output.random == nil)
    }

    // A catalog entry names where the assertion is declared; a hit names the
    // call that evaluated it (file, function and line), as the official SDKs do.
    @Test func hitsNameTheirCallSite() throws {
        try withLocalOutput { makeOutput, path in
            let declaredLine = #line + 1
            let assertion = Assertion(.sometimes, "located")
            let reporter = Reporter(catalog: [assertion], output: makeOutput())
            let evaluatedLine = #line + 1
            reporter.record(assertion, true)

            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            let locations = try lines.dropFirst().map { line in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                return try #require((object["antithesis_assert"] as? [String: Any])?["location"] as? [String: Any])
            }
            #expect(locations.count == 2)
            #expect(locations[0]["begin_line"] as? Int == declaredLine)
            #expect(locations[1]["begin_line"] as? Int == evaluatedLine)
            #expect(locations[1]["function"] as? String == "hitsNameTheirCallSite()")
            #expect(locations[1]["file"] as? String == "StressAntithesisTests/ProtocolTests.swift")
        }
    }

    // The SDK line reports the compiler that built the binary: the version the
    // toolchain running these tests prints.
    @Test func sdkLineReportsTheSwiftVersion() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.contains("Swift version \(swiftCompilerVersion) ("), "\(text) vs \(swiftCompilerVersion)")

        try withLocalOutput { makeOutput, path in
            _ = Reporter(catalog: [], output: makeOutput())
            let line = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").first.map(String.init) ?? ""
            #expect(line.contains(#""language":{"name":"Swift","version":"\#(swiftCompilerVersion)"}"#), "\(line)")
        }
    }

    /// Runs `body` with an `Output` whose environment's $ANTITHESIS_SDK_LOCAL_OUTPUT
    /// names a fresh file, and that file's path. The process's own environment is
    /// left alone: the suites run side by side in one process, and the commands
    /// other tests start inherit it.
    func withLocalOutput(_ body: (_ output: () -> Output, _ path: String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sdk.jsonl").path
        let environment = ["ANTITHESIS_SDK_LOCAL_OUTPUT": path, "SQLITE_STRESS_VOIDSTAR": "/nonexistent/libvoidstar.so"]
        try body({ Output(environment: environment.lookup) }, path)
    }
}

extension Dictionary where Key == String, Value == String {
    /// The variable's value, as `Output` looks one up in an environment.
    func lookup(_ name: String) -> String? { self[name] }
}
