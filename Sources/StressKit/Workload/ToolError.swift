/// A usage or environment problem: bad input, an unusable path, a database
/// this tool did not create. Reported as one sentence with exit status 2,
/// before anything is written.
public struct ToolError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// The database was locked past the busy timeout: trouble a concurrent
    /// workload expects, which a driver reports without failing.
    public let isBusy: Bool
    public init(_ message: String, isBusy: Bool = false) {
        self.message = message
        self.isBusy = isBusy
    }
    public var description: String { message }
}
