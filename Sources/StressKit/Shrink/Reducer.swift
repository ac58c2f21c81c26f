#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Delta debugging, deterministic and bounded: removes as much of a list as it
/// can while a test still fails.
///
/// The strategy is chunk removal from the front (as Lithium does): chunks of
/// half the list, then a quarter, … then single items, each tried once per
/// pass, repeated at single items until nothing more goes. Every candidate
/// keeps the items' order. The same list and the same test give the same
/// result: no randomness, no clock — except `deadline`, which only stops early.
struct Reducer {
    /// Tests left; the reduction stops (keeping what it has) when none are.
    var testsLeft: Int
    /// Wall-clock limit; nil for none.
    var deadline: Date?
    private(set) var testsRun = 0
    /// Why the reduction stopped early, if it did.
    private(set) var exhausted: String?
    /// Called after each test with the phase, the current size and the tests run.
    var progress: (String, Int, Int) -> Void = { _, _, _ in }

    init(tests: Int, deadline: Date? = nil) {
        testsLeft = tests
        self.deadline = deadline
    }

    /// Whether the wall-clock limit has passed.
    var pastDeadline: Bool { deadline.map { Date() >= $0 } ?? false }

    /// Whether the budget still allows a test.
    var canTest: Bool {
        exhausted == nil
    }

    /// Runs `test` on `candidate` if the budget allows; false when it does not.
    mutating func check<T>(_ candidate: [T], phase: String, _ test: ([T]) throws(ToolError) -> Bool) throws(ToolError) -> Bool {
        guard exhausted == nil else { return false }
        if testsLeft <= 0 {
            exhausted = "the test budget"
            return false
        }
        if let deadline, Date() >= deadline {
            exhausted = "the time limit"
            return false
        }
        testsLeft -= 1
        testsRun += 1
        let failed = try test(candidate)
        progress(phase, candidate.count, testsRun)
        return failed
    }

    /// The smallest sublist of `items` found for which `test` is true; `items` itself must fail.
    mutating func reduce<T>(_ items: [T], phase: String, _ test: ([T]) throws(ToolError) -> Bool) throws(ToolError) -> [T] {
        var items = items
        var chunk = max(1, items.count / 2)
        while chunk >= 1 && canTest {
            var removedAny = false
            var start = 0
            while start < items.count && canTest {
                let end = min(start + chunk, items.count)
                let candidate = Array(items[..<start] + items[end...])
                if try check(candidate, phase: phase, test) {
                    items = candidate
                    removedAny = true
                } else {
                    start = end
                }
            }
            if chunk == 1 {
                if !removedAny { break }
            } else {
                chunk /= 2
            }
        }
        return items
    }
}
