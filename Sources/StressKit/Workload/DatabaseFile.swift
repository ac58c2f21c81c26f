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

    /// What is at `path`, judged from the 100-byte database header.
    public static func kind(at path: String) -> Kind {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .missing }
        if isDirectory { return .directory }
        guard let header = head(of: path, count: 100) else { return .notSQLite }
        guard header.count == 100, header.prefix(16).elementsEqual("SQLite format 3\0".utf8) else {
            return starts(path + ".acks", with: "# sqlite-stress acknowledgements") ? .damaged : .notSQLite
        }
        let id = header[68..<72].reduce(UInt32(0)) { ($0 << 8) | UInt32($1) }
        return .sqlite(applicationID: id)
    }

    /// Whether the file at `path` starts with `prefix` (used to recognise our own logs).
    public static func starts(_ path: String, with prefix: String) -> Bool {
        head(of: path, count: prefix.utf8.count)?.elementsEqual(prefix.utf8) ?? false
    }

    /// The first `count` bytes of the file at `path` (fewer if it is shorter), or nil if it cannot be read.
    public static func head(of path: String, count: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, count - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            filled += n
        }
        return Array(bytes.prefix(filled))
    }

    /// Checks that a new file can be created at `path`: its directory exists and is writable.
    public static func checkCreatable(_ path: String, what: String) throws(ToolError) {
        let parent = parentDirectory(of: path)
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory) else {
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

    /// The size of the file at `path` in bytes (0 when there is none).
    public static func size(of path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// Quotes `text` for a POSIX shell when it needs it.
    public static func shellQuote(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-=:,+@%")
        if !text.isEmpty, text.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.replacing("'", with: "'\\''") + "'"
    }
}
