#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing
@testable import StressKit

@Suite struct DatabaseFileTests {
    // A file's size, or nil when there is none (`size` says 0 then).
    // Foundation's file errors, as a message shows them: the system's words, not a structure dump.
    @Test func aFileErrorIsItsReasonInWords() throws {
        let missing = "/nonexistent-\(getpid())/file"
        do {
            try FileManager.default.removeItem(atPath: missing)
            Issue.record("removing \(missing) succeeded")
        } catch {
            #expect(ToolError.reason(error) == "No such file or directory")
        }
        do {
            try Data().write(to: URL(fileURLWithPath: missing))
            Issue.record("writing \(missing) succeeded")
        } catch {
            #expect(ToolError.reason(error) == "No such file or directory")
        }
        #expect(ToolError.reason(CocoaError(.fileWriteOutOfSpace)) == "No space left on device")
        #expect(ToolError.reason(POSIXError(.EROFS)) == "Read-only file system")
    }

    @Test func existingSizeTellsAMissingFileFromAnEmptyOne() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-stress-size-\(UUID().uuidString)").path
        #expect(DatabaseFile.existingSize(of: path) == nil)
        #expect(DatabaseFile.size(of: path) == 0)
        try Data().write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(DatabaseFile.existingSize(of: path) == 0)
        try Data(repeating: 7, count: 5).write(to: URL(fileURLWithPath: path))
        #expect(DatabaseFile.existingSize(of: path) == 5)
    }

    // A file is read whole, byte for byte, whatever its length (several of
    // `read`'s chunks here) and whatever its bytes; an empty one is no byte;
    // one that cannot be read is an error naming it, never an empty answer.
    @Test func contentsAndHeadReadAFile() throws {
        let directory = try TemporaryDirectory()
        let empty = directory.path("empty"), long = directory.path("long")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        #expect(try DatabaseFile.contents(of: empty) == [])
        let bytes = (0..<200_003).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        try Data(bytes).write(to: URL(fileURLWithPath: long))
        #expect(try DatabaseFile.contents(of: long) == bytes)
        let missing = directory.path("missing")
        let unopened = #expect(throws: ToolError.self) { try DatabaseFile.contents(of: missing) }
        #expect(unopened?.message == "cannot open \(missing): No such file or directory.")
        let unread = #expect(throws: ToolError.self) { try DatabaseFile.contents(of: directory.url.path) }
        #expect(unread?.message == "cannot read \(directory.url.path): Is a directory.")

        // The head is the same read, stopped at `count` (across a chunk here):
        // fewer bytes from a shorter file, none at all from what cannot be read.
        #expect(DatabaseFile.head(of: long, count: 70_000) == Array(bytes.prefix(70_000)))
        #expect(DatabaseFile.head(of: long, count: 0) == [])
        #expect(DatabaseFile.head(of: empty, count: 4) == [])
        #expect(DatabaseFile.head(of: missing, count: 4) == nil)
        #expect(DatabaseFile.head(of: directory.url.path, count: 4) == nil)
    }

    // The header's file format numbers (bytes 18 and 19) say WAL (2) or a
    // rollback journal (1); anything else, or no SQLite header, says neither.
    @Test func walInHeaderReadsTheFileFormatNumbers() throws {
        let directory = try TemporaryDirectory()
        func header(_ write: UInt8, _ read: UInt8, magic: String = "SQLite format 3\0") throws -> Bool? {
            var bytes = [UInt8](repeating: 0, count: 4096)
            bytes.replaceSubrange(0..<16, with: Array(magic.utf8))
            bytes[18] = write
            bytes[19] = read
            let path = directory.path("h-\(write)-\(read)-\(magic.count)")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return DatabaseFile.walInHeader(of: path)
        }
        #expect(try header(2, 2) == true)
        #expect(try header(1, 1) == false)
        #expect(try header(1, 2) == nil)
        #expect(try header(0xA5, 0xA5) == nil)
        #expect(try header(2, 2, magic: "SQLite format 2\0") == nil)
        #expect(DatabaseFile.walInHeader(of: directory.path("missing")) == nil)
        let short = directory.path("short")
        try Data("SQLite format 3\0".utf8).write(to: URL(fileURLWithPath: short))
        #expect(DatabaseFile.walInHeader(of: short) == nil)
    }

    // A directory is told from a file and from nothing, through symbolic links
    // (a link to nowhere is nothing), as `FileManager.fileExists` tells them.
    @Test func isDirectoryFollowsLinksAndTellsNothingApart() throws {
        let directory = try TemporaryDirectory()
        let file = directory.path("f"), sub = directory.path("d")
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
        #expect(symlink(sub, directory.path("to-d")) == 0)
        #expect(symlink(file, directory.path("to-f")) == 0)
        #expect(symlink(directory.path("gone"), directory.path("to-nothing")) == 0)
        let cases: [(String, Bool?)] = [
            (sub, true), (directory.path("to-d"), true), (file, false), (directory.path("to-f"), false),
            (directory.path("gone"), nil), (directory.path("to-nothing"), nil), (file + "/below-a-file", nil),
        ]
        for (path, expected) in cases {
            #expect(DatabaseFile.isDirectory(path) == expected, "\(path)")
            var isDirectory = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            #expect((exists ? isDirectory : nil) == expected, "FileManager on \(path)")
        }
    }

    // A database goes with its sidecars, those there are; what is already gone is no error.
    @Test func removeTakesTheDatabaseAndItsSidecars() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("x.db")
        for file in [db, db + "-wal", db + "-journal", directory.path("x.db.acks")] {
            #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        }
        try DatabaseFile.remove(db)
        for file in [db, db + "-wal", db + "-shm", db + "-journal"] {
            #expect(!FileManager.default.fileExists(atPath: file), "\(file) is still there")
        }
        #expect(FileManager.default.fileExists(atPath: directory.path("x.db.acks")), "only the database's own files go")
        try DatabaseFile.remove(db)  // Nothing left: still no error.
    }

    // A file that cannot be removed is named, and the database stays: never a journal gone from under it.
    @Test func removeNamesWhatItCannotRemove() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("x.db")
        #expect(FileManager.default.createFile(atPath: db, contents: Data("x".utf8)))
        try FileManager.default.createDirectory(atPath: db + "-wal", withIntermediateDirectories: false)
        #expect {
            try DatabaseFile.remove(db)
        } throws: { error in
            (error as? ToolError)?.message == "cannot remove \(db)-wal: \(String(cString: strerror(EISDIR)))."
        }
        #expect(FileManager.default.fileExists(atPath: db))
    }

    // A path's last component, for a bare name too.
    @Test func nameIsTheLastComponent() {
        #expect(DatabaseFile.name(of: "runs/x.db") == "x.db")
        #expect(DatabaseFile.name(of: "/x.db") == "x.db")
        #expect(DatabaseFile.name(of: "x.db") == "x.db")
        #expect(DatabaseFile.name(of: "runs/") == "")
    }

    // An open file is the one its path names until the path names another file or none.
    @Test func isOpenFollowsTheFileNotTheName() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("log"), moved = directory.path("log.1")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(DatabaseFile.isOpen(fd, at: path))
        #expect(rename(path, moved) == 0)
        #expect(!DatabaseFile.isOpen(fd, at: path), "the name is gone")
        #expect(DatabaseFile.isOpen(fd, at: moved))
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(!DatabaseFile.isOpen(fd, at: path), "the name is another file's now")
    }
}
