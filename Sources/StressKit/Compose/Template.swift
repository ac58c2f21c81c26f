#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A Test Composer template directory, validated.
public struct Template: Sendable {
    /// The command prefixes the Test Composer knows, and `helper_` for files that are not commands.
    public enum Prefix: String, CaseIterable, Sendable, Codable {
        case first = "first_"
        case parallelDriver = "parallel_driver_"
        case serialDriver = "serial_driver_"
        case singletonDriver = "singleton_driver_"
        case anytime = "anytime_"
        case eventually = "eventually_"
        case finally = "finally_"
        case helper = "helper_"

        var isDriver: Bool { self == .parallelDriver || self == .serialDriver || self == .singletonDriver }
    }

    public struct Command: Sendable, Hashable, Codable {
        public var name: String
        public var path: String
        public var prefix: Prefix
    }

    public let directory: String
    public let commands: [Command]

    public func commands(_ prefix: Prefix) -> [Command] { commands.filter { $0.prefix == prefix } }

    /// Reads and validates `directory`: every file has a known prefix; every
    /// command is executable and has a shebang or is a binary; there is at least
    /// one driver or anytime command.
    public static func load(_ directory: String) throws(ToolError) -> Template {
        guard let isDirectory = DatabaseFile.isDirectory(directory) else {
            throw ToolError("the template directory \(directory) does not exist.")
        }
        guard isDirectory else { throw ToolError("\(directory) is not a directory.") }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw ToolError("cannot read the template directory \(directory).")
        }
        var commands: [Command] = []
        for name in names {
            let path = DatabaseFile.join(directory, name)
            if DatabaseFile.isDirectory(path) == true { continue }
            guard let prefix = Prefix.allCases.first(where: { name.hasPrefix($0.rawValue) && name.count > $0.rawValue.count }) else {
                throw ToolError("\(path) has no Test Composer prefix (first_, parallel_driver_, serial_driver_, "
                    + "singleton_driver_, anytime_, eventually_, finally_ or helper_).")
            }
            if prefix != .helper {
                guard FileManager.default.isExecutableFile(atPath: path) else { throw ToolError("\(path) is not executable.") }
                let head = DatabaseFile.head(of: path, count: 4) ?? []
                guard head.starts(with: "#!".utf8) || head == [0x7F, 0x45, 0x4C, 0x46] else {
                    throw ToolError("\(path) has neither a shebang line nor a binary format.")
                }
            }
            commands.append(Command(name: name, path: path, prefix: prefix))
        }
        guard commands.contains(where: { $0.prefix.isDriver || $0.prefix == .anytime }) else {
            throw ToolError("\(directory) has no driver or anytime command, so there is nothing to run.")
        }
        return Template(directory: directory, commands: commands)
    }
}
