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

