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

/// Facts about files at a path, read without opening them through SQLite
/// (which could create or change them).
public enum DatabaseFile {
    /// The `PRAGMA application_id` this tool stamps on every database it creates ("SQST").
    public static let applicationID: UInt32 = 0x5351_5354

    /// Files SQLite keeps beside a database.
    public static let sidecarSuffixes = ["-wal", "-shm", "-journal"]

    /// Where a database is set up before it is renamed to `path`: a database
    /// at `path` is always complete, never half set up (a run killed during
    /// setup leaves this file, which the next run replaces).
    public static func setupPath(for path: String) -> String { path + ".setup" }

    public enum Kind: Equatable {
        case missing
        case directory
        case notSQLite
        /// An SQLite database with this application id.
        case sqlite(applicationID: UInt32)
        /// No SQLite header, but this tool's acknowledgement log is beside it: a
        /// database sqlite-stress created whose first page is damaged — by a
        /// crash SQLite will recover from its journal or WAL on opening, or by a
        /// storage fault. Only SQLite can say which.
        case damaged
    }

    /// Whether this tool's acknowledgement log is beside the database at `path`:
    /// the mark of a database sqlite-stress made, whatever its header now says.
    public static func hasAckLog(_ path: String) -> Bool {
        starts(AckLog.path(for: path), with: AckLog.header)
    }

    /// What is at `path`, judged from the 100-byte database header.
    public static func kind(at path: String) -> Kind {
        guard let isDirectory = isDirectory(path) else { return .missing }
        if isDirectory { return .directory }
        guard let header = head(of: path, count: 100) else { return .notSQLite }
        guard isSQLiteHeader(header) else {
            return hasAckLog(path) ? .damaged : .notSQLite
        }
        let id = header[68..<72].reduce(UInt32(0)) { ($0 << 8) | UInt32($1) }
        return .sqlite(applicationID: id)
    }

    /// Whether the database at `path` is in WAL mode, as its header's file
    /// format numbers say (bytes 18 and 19: 2 in WAL mode, 1 in the
    /// rollback-journal modes); nil when they say neither or there is no SQLite
    /// header to read. For a database whose recorded journal mode cannot be read.
    public static func walInHeader(of path: String) -> Bool? {
        guard let header = head(of: path, count: 100), isSQLiteHeader(header) else { return nil }
        switch (header[18], header[19]) {
        case (2, 2): return true
        case (1, 1): return false
        default: return nil
        }
    }

    /// Whether `header`, a file's first bytes, is a whole SQLite 3 database header.
    private static func isSQLiteHeader(_ header: [UInt8]) -> Bool {
        header.count == 100 && header.prefix(16).elementsEqual("SQLite format 3\0".utf8)
    }

    /// The first of SQLite's files beside the database at `db` (`-wal`, `-shm`,
    /// `-journal`) that is there but is not a regular file (a directory, a FIFO,
    /// a device; a symbolic link counts as what it names), with a sentence
    /// saying so; nil when there is none. SQLite would fail on it, or wait
    /// forever opening a FIFO.
    static func irregularSidecar(of db: String) -> String? {
        for path in sidecarSuffixes.map({ db + $0 }) {
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG else { continue }
            let what = switch info.st_mode & S_IFMT {
            case S_IFDIR: "a directory"
            case S_IFIFO: "a FIFO"
            case S_IFSOCK: "a socket"
            default: "a device"
            }
            return "\(path) is \(what), not a file SQLite could use beside its database"
        }
        return nil
    }

    /// SQLite's files beside `db` (`-wal`, `-shm`, `-journal`) left there
    /// without the database itself, which a new database at `db` would take for
    /// its own: one sentence unless `overwrite` (the caller then removes them
    /// with the database's path). Whether any is there.
    static func checkLeftSidecars(of db: String, overwrite: Bool) throws(ToolError) -> Bool {
        guard let left = sidecarSuffixes.map({ db + $0 }).first(where: exists) else { return false }
        guard overwrite else { throw ToolError("\(left) exists without its database; remove it or pass --overwrite.") }
        return true
    }

    /// What a command about to write one of a database's logs finds at `path`.
    enum LogFile { case missing, directory, empty, ours, foreign }

    /// Whether the file at `path` is a log that starts with `header`, with one
    /// `stat` and one read (a driver asks it of both logs at every start). A
    /// file that cannot be read is foreign: nothing says it is ours.
    static func log(at path: String, header: String) -> LogFile {
        guard let isDirectory = isDirectory(path) else { return .missing }
        if isDirectory { return .directory }
        guard let head = head(of: path, count: header.utf8.count) else { return .foreign }
        if head.isEmpty { return .empty }
        return head.elementsEqual(header.utf8) ? .ours : .foreign
    }

    /// Whether the file at `path` starts with `prefix` (used to recognise our own logs).
    public static func starts(_ path: String, with prefix: String) -> Bool {
        head(of: path, count: prefix.utf8.count)?.elementsEqual(prefix.utf8) ?? false
    }

    /// Whether the file at `path` exists and holds no byte.
    public static func isEmpty(_ path: String) -> Bool { head(of: path, count: 1)?.isEmpty == true }

    /// The first `count` bytes of the file at `path` (fewer if it is shorter), or nil if it cannot be read.
    public static func head(of path: String, count: Int) -> [UInt8]? {
        try? bytes(of: path, upTo: count)
    }

    /// The whole file at `path`, read with `read(2)`. A process that runs for
    /// hours reads files this way: `Data(contentsOf:)` of FoundationEssentials
    /// leaks a 4 KiB buffer each time it reads an empty file, and the compose
    /// runner reads one file per command it runs, many of them empty.
    public static func contents(of path: String) throws(ToolError) -> [UInt8] {
        try bytes(of: path, upTo: .max)
    }

    /// The file at `path` from its start, `limit` bytes at most (`head`, `contents`).
    /// Only a regular file is read: opening a FIFO would wait for a writer
    /// (O_NONBLOCK keeps the open itself from waiting), and a device is no file of ours.
    private static func bytes(of path: String, upTo limit: Int) throws(ToolError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw ToolError("cannot open \(path): \(String(cString: strerror(errno))).") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ToolError("cannot read \(path): \(String(cString: strerror(errno))).") }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw ToolError("cannot read \(path): \(String(cString: strerror(EISDIR))).")
        default: throw ToolError("\(path) is not a regular file.")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(limit, 64 * 1024))
        while bytes.count < limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, min($0.count, limit - bytes.count)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ToolError("cannot read \(path): \(String(cString: strerror(errno))).") }
            guard n > 0 else { break }
            bytes += chunk[..<n]
        }
        return bytes
    }

    // MARK: - Whether a process has the database open

    /// Why some other process has the database at `path` open, or nil when no
    /// lock shows it. Reads locks only; takes none that outlive the call.
    ///
    /// Three probes: a process of this tool writing the database holds a shared
    /// `flock` on its acknowledgement log for as long as it runs (`AckLog`); a
    /// connection inside a transaction holds SQLite's lock bytes of the file; a
    /// connection in WAL mode holds a lock on the wal-index (`-shm`) for as long
    /// as it is open (<https://www.sqlite.org/walformat.html#the_wal_index_file_format>).
    /// An idle connection in a rollback-journal mode holds no lock at all, so
    /// nothing can see it. Must not run while this process has the database open
    /// through SQLite: closing a descriptor drops the process's POSIX locks on the file.
    public static func openingProcess(of path: String) -> String? {
        let acks = open(path + ".acks", O_RDONLY | O_CLOEXEC)
        if acks >= 0 {
            defer { close(acks) }
            if flock(acks, LOCK_EX | LOCK_NB) != 0 {
                if errno == EWOULDBLOCK { return "an sqlite-stress process is writing it" }
            } else {
                flock(acks, LOCK_UN)
            }
        }
        // SQLite's lock bytes: PENDING at 1 GiB, then RESERVED and the 510 SHARED bytes.
        if isLocked(path, from: 0x4000_0000, count: 512) { return "a process holds a lock on it (an open transaction)" }
        // The wal-index's eight locks and its DMS byte (120…128), which every open connection holds.
        if isLocked(path + "-shm", from: 120, count: 9) { return "a process has it open in WAL mode" }
        return nil
    }

    /// Whether another process holds a POSIX lock on any of `count` bytes of `path` from `from`.
    private static func isLocked(_ path: String, from start: Int, count: Int) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = off_t(start)
        lock.l_len = off_t(count)
        guard fcntl(fd, F_GETLK, &lock) == 0 else { return false }
        return lock.l_type != Int16(F_UNLCK)
    }

    // MARK: - Paths

    /// `path` with its directory resolved (symbolic links, `.` and `..`), so
    /// two spellings of one file compare equal. The whole path is resolved when
    /// the file exists; a symbolic link to a file not made yet is followed to
    /// that file; otherwise its directory is resolved, when that exists.
    public static func canonical(_ path: String) -> String {
        canonical(path, links: 0)
    }

    private static func canonical(_ path: String, links: Int) -> String {
        func resolved(_ path: String) -> String? {
            guard let real = realpath(path, nil) else { return nil }
            defer { free(real) }
            return String(cString: real)
        }
        if let whole = resolved(path) { return whole }
        // A symbolic link to a file not made yet names that file (40 links at most, as the kernel follows).
        if links < 40, let target = linkTarget(path) {
            return canonical(target.hasPrefix("/") ? target : join(parentDirectory(of: path), target), links: links + 1)
        }
        return resolved(parentDirectory(of: path)).map { join($0, name(of: path)) } ?? path
    }

    /// What the symbolic link at `path` points to; nil when `path` is no symbolic link.
    private static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Refuses a symbolic link at `path`, where a command makes a new `what`
    /// (a database, a script): the new file is renamed into place, or the old
    /// one removed first, which would put a file where the link was and leave
    /// what it points to as it was (or, for a link to nothing, quietly drop the
    /// link). One sentence naming the link's target instead.
    public static func checkNotALink(_ path: String, what: String) throws(ToolError) {
        guard let target = linkTarget(path) else { return }
        let missing = isDirectory(path) == nil ? ", which does not exist" : ""
        throw ToolError("\(path) is a symbolic link to \(target)\(missing): a new \(what) would replace the link, "
            + "not what it points to; give the \(what)'s own path.")
    }

    /// Checks that a new file can be created at `path`: its directory exists and is writable.
    public static func checkCreatable(_ path: String, what: String) throws(ToolError) {
        let parent = parentDirectory(of: path)
        guard let isDirectory = isDirectory(parent) else {
            throw ToolError("cannot create the \(what) at \(path): the directory \(parent) does not exist.")
        }
        guard isDirectory else {
            throw ToolError("cannot create the \(what) at \(path): \(parent) is not a directory.")
        }
        guard access(parent, W_OK) == 0 else {
            throw ToolError("cannot create the \(what) at \(path): the directory \(parent) is not writable.")
        }
    }

    /// The directory part of `path` ("." for a bare name). Plain string work:
    /// Foundation's NSString path methods trap on some short paths.
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = path[..<slash]
        return parent.isEmpty ? "/" : String(parent)
    }

    /// The last component of `path` (all of it for a bare name).
    public static func name(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }

    /// `directory/name`.
    public static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// A fresh path beside `path` for a reproduction, so that running a
    /// reproduce line never replaces the files it came from: `stress.db` →
    /// `stress-repro.db`, `compose-0x2a` → `compose-0x2a-repro`.
    public static func reproductionPath(_ path: String) -> String {
        let name = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        if let dot = path[name...].lastIndex(of: "."), dot > name {
            return path[..<dot] + "-repro" + path[dot...]
        }
        return path + "-repro"
    }

    /// Removes the database file at `path` and its sidecars, the sidecars first
    /// (so that this never leaves a WAL or journal without its database); a file
    /// already gone is no error. Throws naming the first file that could not be removed.
    public static func remove(_ path: String) throws(ToolError) {
        var info = stat()
        // A file that is not there is skipped first: on a read-only file system unlink(2) says EROFS even then.
        for file in sidecarSuffixes.map({ path + $0 }) + [path] where lstat(file, &info) == 0 {
            guard unlink(file) == 0 || errno == ENOENT else {
                throw ToolError("cannot remove \(file): \(String(cString: strerror(errno))).")
            }
        }
    }

    /// Whether `fd` is open on the very file `path` names now (the same inode on
    /// the same device): false once the file was renamed, removed or replaced.
    public static func isOpen(_ fd: Int32, at path: String) -> Bool {
        var open = stat(), named = stat()
        return fstat(fd, &open) == 0 && stat(path, &named) == 0 && open.st_ino == named.st_ino && open.st_dev == named.st_dev
    }

    /// Whether `a` and `b` name the same existing file (the same inode on the
    /// same device, through links and `..` alike).
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        return stat(a, &first) == 0 && stat(b, &second) == 0 && first.st_ino == second.st_ino && first.st_dev == second.st_dev
    }

    /// Whether anything is at `path`, following symbolic links (`isDirectory`).
    static func exists(_ path: String) -> Bool { isDirectory(path) != nil }

    /// Whether `path` names a directory, following symbolic links; nil when
    /// nothing can be found there (as `FileManager.fileExists` judges, without
    /// the cost of `FileManager`'s first use in a driver's short process). The
    /// one place the tool asks.
    static func isDirectory(_ path: String) -> Bool? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT == S_IFDIR
    }

    /// The size of the file at `path` in bytes (0 when there is none).
    public static func size(of path: String) -> Int64 { existingSize(of: path) ?? 0 }

    /// The size of the file at `path`, nil when there is none.
    public static func existingSize(of path: String) -> Int64? {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : nil
    }

    /// Quotes `text` for a POSIX shell when it needs it.
    public static func shellQuote(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-=:,+@%")
        if !text.isEmpty, text.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.replacing("'", with: "'\\''") + "'"
    }
}

extension ToolError {
    /// Why a file operation through Foundation failed, in the system's own
    /// words ("Permission denied", "No space left on device"): Foundation's
    /// error prints as a structure dump, which is no sentence for a user.
    static func reason(_ error: any Error) -> String {
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        if let cocoa = error as? CocoaError {
            if let posix = cocoa.userInfo["NSUnderlyingError"] as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
            switch cocoa.code {
            case .fileNoSuchFile, .fileReadNoSuchFile: return String(cString: strerror(ENOENT))
            case .fileReadNoPermission, .fileWriteNoPermission: return String(cString: strerror(EACCES))
            case .fileWriteOutOfSpace: return String(cString: strerror(ENOSPC))
            case .fileWriteFileExists: return String(cString: strerror(EEXIST))
            case .fileReadInapplicableStringEncoding, .fileReadCorruptFile: return "its bytes are not UTF-8 text"
            default: break
            }
        }
        return "\(error)"
    }
}
