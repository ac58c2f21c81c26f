#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Ctrl-C (SIGINT) and SIGTERM: the first asks the command to stop cleanly —
/// workers finish the transaction they are in, and the command prints what it
/// did so far and exits 128 + the signal (130 for Ctrl-C). With `repeatStops`,
/// a second signal ends the process at once; `compose` keeps both, since it
/// must kill its commands before it goes.
public enum Interrupt {
    /// The signal that asked to stop, or 0.
    public static var signal: Int32 { caught.load(ordering: .relaxed) }

    /// Whether a stop was asked for.
    public static var requested: Bool { signal != 0 }

    /// The conventional exit status of a command stopped by the signal.
    public static var exitStatus: Int32 { 128 + signal }

    /// Installs the handlers (once per process) and unblocks the signals: a
    /// parent may have started the process with them blocked.
    public static func install(repeatStops: Bool) {
        _ = notice.count  // Globals are built on first use: before any handler can need them.
        _ = caught.load(ordering: .relaxed)
        stopsAtOnce.store(repeatStops, ordering: .relaxed)
        var action = sigaction()
        #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = handle
        #else
        action.__sigaction_u.__sa_handler = handle
        #endif
        sigemptyset(&action.sa_mask)
        var signals = sigset_t()
        sigemptyset(&signals)
        for number in [SIGINT, SIGTERM] {
            sigaction(number, &action, nil)
            sigaddset(&signals, number)
        }
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }
}

private let caught = Atomic<Int32>(0)
private let stopsAtOnce = Atomic<Bool>(true)
private let notice = Array("\ninterrupted: stopping after the current transactions (again to stop at once)\n".utf8)

/// Async-signal-safe: atomics and write(2) only.
private func handle(_ number: Int32) {
    if caught.load(ordering: .relaxed) != 0, stopsAtOnce.load(ordering: .relaxed) {
        // A second request: the default action, now.
        signal(number, SIG_DFL)
        raise(number)
        return
    }
    caught.store(number, ordering: .relaxed)
    if stopsAtOnce.load(ordering: .relaxed) {
        notice.withUnsafeBufferPointer { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
