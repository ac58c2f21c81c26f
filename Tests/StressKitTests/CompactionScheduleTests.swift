@testable import StressKit
import Testing

/// When `stress` compacts: `--compact-every K` from the start, 0 never, and by
/// default every 200 iterations once a thread has run 2,000.
@Suite struct CompactionScheduleTests {
    static func due(_ schedule: CompactionSchedule, through last: Int) -> [Int] {
        (1...last).filter { schedule.isDue(after: $0) }
    }

    @Test func theDefaultCompactsOnlyLongRuns() {
        #expect(Self.due(.automatic, through: 1999).isEmpty)
        #expect(Self.due(.automatic, through: 2600) == [2000, 2200, 2400, 2600])
        #expect(Self.due(CompactionSchedule(every: 100), through: 450) == [100, 200, 300, 400])
        #expect(Self.due(.never, through: 5000).isEmpty)
    }

    @Test func theOptionSpellsItAsAutoOrANumber() {
        #expect(CompactionSchedule(argument: "auto") == .automatic)
        #expect(CompactionSchedule(argument: "0") == .never)
        #expect(CompactionSchedule(argument: "150") == CompactionSchedule(every: 150))
        for bad in ["-1", "often", "", "AUTO", "1.5"] { #expect(CompactionSchedule(argument: bad) == nil, "\(bad)") }
        for schedule in [CompactionSchedule.automatic, .never, CompactionSchedule(every: 7)] {
            #expect(CompactionSchedule(argument: schedule.argument) == schedule)
        }
    }
}
