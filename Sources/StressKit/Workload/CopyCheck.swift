import Synchronization
import StressSQLite

/// The check of one VACUUM INTO copy, on a thread of its own while its worker
/// goes on with the next transactions. Every property is checked on the copy as
/// of its snapshot: held to the acknowledgements recorded before the VACUUM
/// INTO began (the log's first `acknowledgedBytes`).
///
/// The worker takes the outcome (`finish`) at points its own work fixes — the
/// start of its next VACUUM INTO, a periodic check, a fixed number of iterations
/// later, the end of its work — never when the thread happens to be done, so a
/// run with one thread stops at the same statement on every replay of its seed.
/// Nothing the check sees depends on when it runs: the copy is a file of its
/// own, the acknowledgement log is read only as long as it was, and the log
/// line its violations name is the VACUUM INTO's.
final class CopyCheck {
    /// The copy, held while it is checked.
    let copy: CopyFile
    /// The iteration of the worker that took the copy.
    let iteration: Int
    /// Where the thread leaves its outcome (read after `join`).
    private final class Outcome: Sendable {
        let value = Mutex<Result<CheckReport, any Error>?>(nil)
    }
    private let outcome = Outcome()
    private var thread: OSThread?

    init(copy: CopyFile, iteration: Int, who: String, logLine: Int, acknowledgements: String, acknowledgedBytes: Int, randomness: Randomness) {
        self.copy = copy
        self.iteration = iteration
        let path = copy.path
        thread = OSThread { [outcome] in
            let result = Result { () throws -> CheckReport in
                let connection = try Connection(path: path, flags: [.readWrite])
                defer { connection.close() }
                let checker = Checker(connection: connection, who: who, logLine: { logLine })
                return try checker.run(acknowledgements: acknowledgements, acknowledgedBytes: acknowledgedBytes, randomness: randomness)
            }
            outcome.value.withLock { $0 = result }
        }
    }

    /// Waits for the check, and returns its report, or why the copy could not be checked.
    func finish() -> Result<CheckReport, any Error> {
        thread?.join()
        thread = nil
        return outcome.value.withLock { $0! }
    }
}
