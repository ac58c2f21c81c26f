import Testing

@testable import StressKit

/// The verdict of a check that found no violation claims only what it judged:
/// a property that stopped, or was not reached, is named, never counted as held.
@Suite struct CheckVerdictTests {
    static func report(skipping skipped: Set<Property>) -> CheckReport {
        CheckReport(results: Property.allCases.map {
            PropertyResult(property: $0, status: skipped.contains($0) ? .skipped : .pass, checked: "…", violations: [], moreViolations: 0)
        })
    }

    @Test func everyPropertyJudgedHeld() {
        let report = Self.report(skipping: [])
        #expect(report.passVerdict() == "every property held")
        #expect(report.passVerdict(checks: "7 checks") == "every property held (7 checks)")
    }

    @Test func propertiesWithoutAVerdictAreNamed() {
        let report = Self.report(skipping: [.model, .rollback])
        #expect(report.passed)
        #expect(report.unjudged == [.model, .rollback])
        #expect(report.passVerdict() == "no property violated, but no verdict on model, rollback (see the table)")
        #expect(report.passVerdict(checks: "7 checks")
            == "no property violated in 7 checks, but the final one reached no verdict on model, rollback")
    }

    // `check`'s result line, text: the same verdict.
    @Test func checkSaysWhichPropertiesItCouldNotJudge() {
        var outcome = CheckCommand.Outcome(mode: .final, databasePath: "d.db", randomness: .seed(7))
        outcome.report = Self.report(skipping: [.durability])
        #expect(outcome.passed)
        #expect(outcome.text.hasSuffix("result: PASS — no property violated, but no verdict on durability (see the table)"))
        outcome.report = Self.report(skipping: [])
        #expect(outcome.text.hasSuffix("result: PASS — every property held"))
    }
}
