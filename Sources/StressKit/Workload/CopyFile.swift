#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A VACUUM INTO copy's file, held by its writer (an exclusive `flock`) from
/// before the copy is made until its check is done, so that what a killed writer
/// left behind can be told from a copy still being checked.
///
/// Every VACUUM INTO first removes the copies no process holds (`removeAbandoned`):
/// a writer killed between its copy and the copy's verdict leaves a whole copy
/// of the database, and in an hours-long run with kills those would fill the
/// disk. A copy that failed its check is renamed `<db>.failed-copy-<writer>`
/// (`keepFailed`), which no sweep touches: it is the evidence its violations name.
final class CopyFile {
    let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { release() }

    /// The name a copy that failed its check is kept under.
    static func failedPath(_ path: String) -> String {
        DatabaseFile.join(DatabaseFile.parentDirectory(of: path), DatabaseFile.name(of: path).replacing(".copy-", with: ".failed-copy-"))
    }

    /// An empty file at `path` (what was there removed first), held by this
    /// process: the VACUUM INTO writes into it (SQLite takes an empty file as a
    /// new database). Fails, with the system's reason, when it cannot be made.
    static func create(_ path: String) -> Result<CopyFile, ToolError> {
        for _ in 0..<8 {
            do { try DatabaseFile.remove(path) } catch { return .failure(error) }
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd < 0 {
                if errno == EEXIST { continue }  // Another writer of the same name (a rerun monolith): try again.
                return .failure(ToolError("cannot create the VACUUM INTO copy \(path): \(String(cString: strerror(errno)))."))
            }
            var locked: Int32
            repeat { locked = flock(fd, LOCK_EX) } while locked != 0 && errno == EINTR
            guard locked == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                return .failure(ToolError("cannot lock the VACUUM INTO copy \(path): \(reason)."))
            }
            // A sweep may have taken the new file between open and flock, and removed it.
            if DatabaseFile.isOpen(fd, at: path) { return .success(CopyFile(path: path, fd: fd)) }
            close(fd)
        }
        return .failure(ToolError("cannot create the VACUUM INTO copy \(path): it kept being removed."))
    }

    /// Removes the copy (and what SQLite left beside it), then lets it go. Best
    /// effort: what cannot be removed now, the next VACUUM INTO's sweep removes.
    func discard() {
        try? DatabaseFile.remove(path)
        release()
    }

    /// Renames the copy to `failedPath`, which no sweep removes, then lets it go;
    /// returns the new path. The sidecars go first: a sweep takes a sidecar left
    /// without its copy for an orphan.
    func keepFailed() -> String {
        let kept = Self.failedPath(path)
        for suffix in DatabaseFile.sidecarSuffixes + [""] { _ = rename(path + suffix, kept + suffix) }
        release()
        return kept
    }

    private func release() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// Removes every copy `<database>.copy-<writer>` that no process holds (its
    /// writer is gone), with its sidecars, and sidecars whose copy is gone. A
    /// writer is a thread (`t0`) or a driver (`d…`); other names beside the
    /// database are not the tool's and stay.
    ///
    /// Opening and closing a copy this process's own check has open through
    /// SQLite drops that connection's POSIX locks on it (a close drops every one
    /// the process holds on the file); harmless here, since the check is the
    /// copy's only connection and nothing else writes it.
    static func removeAbandoned(besides databasePath: String) {
        let directory = DatabaseFile.parentDirectory(of: databasePath)
        let prefix = DatabaseFile.name(of: databasePath) + ".copy-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            return  // Nothing to sweep that can be seen; the copy itself will say if the directory is unusable.
        }
        for name in names where name.hasPrefix(prefix) {
            let path = DatabaseFile.join(directory, name)
            let sidecar = DatabaseFile.sidecarSuffixes.first { name.hasSuffix($0) }
            guard name.dropFirst(prefix.count).dropLast(sidecar?.count ?? 0).wholeMatch(of: /[td][0-9]+/) != nil else { continue }
            if let suffix = sidecar {
                // A sidecar whose copy is gone is an orphan; one whose copy is there goes with it (or stays).
                if access(String(path.dropLast(suffix.count)), F_OK) != 0 { _ = unlink(path) }
                continue
            }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            // Best effort: what cannot be removed now, a later sweep tries again.
            if flock(fd, LOCK_EX | LOCK_NB) == 0, DatabaseFile.isOpen(fd, at: path) { try? DatabaseFile.remove(path) }
            close(fd)
        }
    }
}
