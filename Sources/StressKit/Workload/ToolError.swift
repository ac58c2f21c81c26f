/// A usage or environment problem: bad input, an unusable path, a database
/// this tool did not create. Reported as one sentence with exit status 2,
/// before anything is written.
public struct ToolError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
