import Foundation

/// The fault-injecting VFS is one per process: arming it (a run with storage
/// faults, a shrink replaying a script) sets what every connection through it
/// meets, and a shrink arms it even without faults (to simulate syncs). The tests
/// of this target share one process and run in parallel, so the ones that arm it
/// take turns: otherwise one test's arming can replace another's faults mid-run.
enum FaultVFSAccess {
    private static let lock = NSLock()

    static func exclusively<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
