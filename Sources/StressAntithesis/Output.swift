#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Where protocol messages go, chosen once per process:
///
/// 1. `libvoidstar` (inside Antithesis): `fuzz_json_data` and `fuzz_flush`.
/// 2. Else the file named by `ANTITHESIS_SDK_LOCAL_OUTPUT`.
/// 3. Else `$ANTITHESIS_OUTPUT_DIR/sdk.jsonl`.
/// 4. Else nowhere.
///
/// Files are opened with O_APPEND and never truncated: several processes share
/// them, and the entrypoint's `setup_complete` line must survive. Each message
/// is one `write(2)` of the whole line.
public final class Output: Sendable {
    public static let protocolVersion = "1.1.0"
    public static let sdkVersion = "0.1.0"

    public enum Sink: Sendable, Equatable {
        case voidstar(path: String)
        case file(path: String)
        case none
    }

    /// Where `libvoidstar` is looked for; `SQLITE_STRESS_VOIDSTAR` overrides it
    /// (tests load a stand-in from there).
    public static var voidstarPath: String { voidstarPath(in: environment) }

    static func voidstarPath(in environment: (String) -> String?) -> String {
        environment("SQLITE_STRESS_VOIDSTAR") ?? "/usr/lib/libvoidstar.so"
    }

    /// The process's output, chosen from the environment on first use.
    public static let shared = Output()

    public let sink: Sink
    /// Why a configured file could not be opened (messages then go nowhere).
    public let failure: String?
    /// Where a file sink writes.
    private let path: String?
    private let voidstar: Voidstar?
    private let fd: Int32
    private let sentSDKInfo = Atomic<Bool>(false)

    /// The output `environment` (the process's, but in tests) chooses.
    init(environment: (String) -> String? = Output.environment) {
        let voidstarPath = Self.voidstarPath(in: environment)
        if let library = Voidstar.load(voidstarPath) {
            voidstar = library
            sink = .voidstar(path: voidstarPath)
            fd = -1
            failure = nil
            path = nil
            return
        }
        voidstar = nil
        path = environment("ANTITHESIS_SDK_LOCAL_OUTPUT")
            ?? environment("ANTITHESIS_OUTPUT_DIR").map { $0 + "/sdk.jsonl" }
        if let path {
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            sink = fd >= 0 ? .file(path: path) : .none
            failure = fd >= 0 ? nil : "cannot open the SDK output \(path): \(String(cString: strerror(errno)))"
            if let failure { Self.note(failure) }
        } else {
            fd = -1
            sink = .none
            failure = nil
        }
    }

    /// The first message this process could not deliver: the SDK output file
    /// could not be opened, or a write to it failed (a full disk, say), so its
    /// assertions may be missing there. Nil while every message got through,
    /// and in a process that sent none (reading it opens nothing).
    public static var deliveryFailure: String? { firstFailure.withLock { $0 } }
    private static let firstFailure = Mutex<String?>(nil)

    private static func note(_ failure: String) {
        firstFailure.withLock { if $0 == nil { $0 = failure } }
    }

    /// Whether messages go anywhere.
    public var isActive: Bool { sink != .none }

    /// Sends one message. Returns false when it went nowhere or its write failed.
    @discardableResult
    public func emit(_ message: JSON) -> Bool {
        switch sink {
        case .none: return false
        case .voidstar:
            var text = message.text
            text.withUTF8 { buffer in
                buffer.withMemoryRebound(to: CChar.self) { voidstar!.jsonData($0.baseAddress!, $0.count) }
            }
            voidstar!.flush()
            return true
        case .file:
            var line = message.text
            line += "\n"
            guard writeAll(fd, &line) else {
                let reason = String(cString: strerror(errno))
                Self.note("cannot write the SDK output \(path ?? ""): \(reason)")
                return false
            }
            return true
        }
    }

    /// Sends the SDK line (the language, SDK and protocol versions), once per
    /// process, before anything else this process sends.
    public func emitSDKInfo() {
        guard isActive, !sentSDKInfo.exchange(true, ordering: .relaxed) else { return }
        emit([
            "antithesis_sdk": [
                "language": ["name": "Swift", "version": .string(swiftCompilerVersion)],
                "sdk_version": .string(Self.sdkVersion),
                "protocol_version": .string(Self.protocolVersion),
            ],
        ])
    }

    /// Tells Antithesis that the system is ready: it snapshots it and starts the
    /// test commands and faults. The platform takes the first such message from
    /// any process as the moment setup completed and ignores later ones.
    /// Returns false when the message went nowhere or could not be written.
    public func setupComplete() -> Bool {
        emitSDKInfo()
        return emit(["antithesis_setup": ["status": "complete", "details": .null]])
    }

    /// Antithesis's `fuzz_get_random`, when `libvoidstar` is loaded: each call
    /// is a choice its fuzzer can steer. A C function, so C code can call it too.
    public var random: PlatformRandom? { voidstar?.getRandom }

    /// `fuzz_get_random`'s type.
    public typealias PlatformRandom = @Sendable @convention(c) () -> UInt64

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}

/// The three entry points of `libvoidstar`.
final class Voidstar: Sendable {
    typealias JSONData = @convention(c) (UnsafePointer<CChar>, Int) -> Void
    typealias Flush = @convention(c) () -> Void
    typealias GetRandom = Output.PlatformRandom

    let jsonData: JSONData
    let flush: Flush
    let getRandom: GetRandom

    private init(jsonData: JSONData, flush: Flush, getRandom: GetRandom) {
        self.jsonData = jsonData
        self.flush = flush
        self.getRandom = getRandom
    }

    /// Loads the library at `path`; nil when it is absent or lacks an entry point.
    static func load(_ path: String) -> Voidstar? {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { return nil }
        guard let data = dlsym(handle, "fuzz_json_data"), let flush = dlsym(handle, "fuzz_flush"),
              let random = dlsym(handle, "fuzz_get_random") else {
            dlclose(handle)
            return nil
        }
        // The library stays loaded for the life of the process.
        return Voidstar(
            jsonData: unsafeBitCast(data, to: JSONData.self), flush: unsafeBitCast(flush, to: Flush.self),
            getRandom: unsafeBitCast(random, to: GetRandom.self))
    }
}

/// Writes all of `line` to `fd` with as few `write(2)` calls as it takes
/// (retrying after EINTR and short writes). Returns false when the write
/// failed, e.g. with ENOSPC (`errno` says why).
@discardableResult
public func writeAll(_ fd: Int32, _ line: inout String) -> Bool {
    var written = 0
    return writeAll(fd, &line, written: &written)
}

/// `writeAll`, also telling how many bytes reached the file (all of them, on success).
public func writeAll(_ fd: Int32, _ line: inout String, written offset: inout Int) -> Bool {
    offset = 0
    return line.withUTF8 { buffer in
        while offset < buffer.count {
            let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}
