#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StressSQLite

/// The SQLite library under test: the system's, or the one in the directory
/// given to `--sqlite` or `$SQLITE_STRESS_SQLITE`.
///
/// The binary links `libsqlite3.so.0` by soname, so the choice is made by the
/// dynamic linker: a chosen directory is checked on its own (see
/// `SQLiteLibrary.probe`), put first on `LD_LIBRARY_PATH` next to
/// `$SQLITE_STRESS_SQLITE` (an absolute path), and the process re-executes
/// itself once. Every process it starts — the commands `compose` runs, the
/// `sqlite3` shell — inherits both variables, so one flag switches a whole
/// run, and each sqlite-stress process confirms where its library really came
/// from before it touches a database.
public enum SQLiteChoice {
    /// The environment variable that names the directory; set for children.
    public static let environmentVariable = "SQLITE_STRESS_SQLITE"

    /// The library this process runs on.
    public static var library: SQLiteLibrary { SQLiteLibrary.loaded }

    /// The line every report prints: "sqlite: 3.50.4, source id …, from /x/libsqlite3.so.0".
    public static var line: String { "sqlite: " + library.summary }

    /// `--sqlite DIR` for a reproduce line when a library was chosen (a run is
    /// reproduced on the same SQLite); empty on the system's.
    public static var reproduceArguments: [String] {
        variable(environmentVariable).map { ["--sqlite", $0] } ?? []
    }

    /// The flag that chooses the library, as a command line spells it.
    static let flag = "--sqlite"

    /// `--sqlite DIR` or `--sqlite=DIR` among `arguments` (the last one, before
    /// any `--`), as argument-parser will read it; nil when absent or without a value.
    public static func directoryArgument(in arguments: [String]) -> String? {
        var found: String?
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { break }
            if argument == flag, index + 1 < arguments.count, !arguments[index + 1].hasPrefix("-") {
                found = arguments[index + 1]
                index += 1
            } else if argument.hasPrefix(flag + "=") {
                found = String(argument.dropFirst(flag.count + 1))
            }
            index += 1
        }
        return found
    }

    /// Where `arguments` (without the program's name) go on after the `--sqlite
    /// DIR` or `--sqlite=DIR` flags they begin with: the one option that may
    /// come before a command.
    public static func afterLeadingFlags(in arguments: [String]) -> Int {
        var index = 0
        while index < arguments.count, arguments[index] == flag || arguments[index].hasPrefix(flag + "=") {
            index += arguments[index] == flag ? 2 : 1
        }
        return index
    }

    /// Makes this process run on the chosen SQLite, re-executing it at most once;
    /// then checks that the library it runs on has what sqlite-stress needs, and
    /// configures it for the process (`SQLiteLibrary.stopMemoryStatistics`).
    /// Every problem is one sentence, before anything is written.
    public static func activate(arguments: [String] = CommandLine.arguments) throws(ToolError) {
        let flag = directoryArgument(in: arguments)
        // An empty `--sqlite=` is no directory; an empty variable is an unset one, as for every variable.
        if flag?.isEmpty == true { throw ToolError("--sqlite needs a directory; give the one scripts/build-sqlite made.") }
        if let given = flag ?? variable(environmentVariable), !given.isEmpty {
            try use(directory: given, flag: flag != nil)
        }
        if let shortcoming = SQLiteLibrary.loadedShortcoming {
            throw ToolError("the SQLite library at \(library.path) \(shortcoming).")
        }
        guard SQLiteLibrary.stopMemoryStatistics() else {
            throw ToolError("cannot configure SQLite: it was initialized before sqlite-stress could turn off its memory statistics.")
        }
    }

    private static func use(directory given: String, flag: Bool) throws(ToolError) {
        let source = flag ? "--sqlite \(given)" : "$\(environmentVariable) (\(given))"
        guard let isDirectory = DatabaseFile.isDirectory(given) else {
            throw ToolError("\(source): no such directory.")
        }
        guard isDirectory else {
            throw ToolError("\(source) is not a directory; give the directory that holds \(SQLiteLibrary.fileName).")
        }
        guard let directory = realPath(given) else { throw ToolError("\(source): cannot resolve the path.") }
        let wanted = directory + "/" + SQLiteLibrary.fileName
        guard access(wanted, F_OK) == 0 else {
            throw ToolError("\(source) holds no \(SQLiteLibrary.fileName); build one with scripts/build-sqlite.")
        }
        // Already running on it (after the re-exec, in a composed command, or the system's own directory).
        if realPath(library.path) == realPath(wanted) {
            setenv(environmentVariable, directory, 1)
            return
        }
        let searchPath = variable("LD_LIBRARY_PATH") ?? ""
        if searchPath.split(separator: ":").first.map(String.init) == directory {
            throw ToolError("asked to run on \(wanted), but the dynamic linker loaded \(library.path) "
                + "(is LD_PRELOAD set, or the binary built with an RPATH?).")
        }
        switch SQLiteLibrary.probe(directory: directory) {
        case .failure(let unusable): throw ToolError("\(wanted) \(unusable.reason).")
        case .success: break
        }
        setenv(environmentVariable, directory, 1)
        setenv("LD_LIBRARY_PATH", searchPath.isEmpty ? directory : directory + ":" + searchPath, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        throw ToolError("cannot re-execute sqlite-stress to load \(wanted): \(String(cString: strerror(errno))).")
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func variable(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
