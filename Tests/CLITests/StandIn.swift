import Foundation
import Testing

/// A stand-in for Antithesis's libvoidstar, built from C once per machine
/// and loaded by the binary through `$SQLITE_STRESS_VOIDSTAR`. It appends every
/// message to `$STANDIN_MESSAGES`, one line each, and a line to `$STANDIN_RANDOM`
/// for every `fuzz_get_random` call, so a test can count the draws. Its values
/// come from a fixed generator whose start `$STANDIN_STATE` can change: the same
/// state gives the same sequence of values.
///
/// It lives in `.build-sqlite/` (gitignored), under a name that follows its
/// source, so no test run leaves a copy behind in the temporary directory.
enum StandIn {
    static let library: URL = {
        let source = Data(Self.source.utf8)
        // FNV-1a of the source: a changed stand-in gets a new name.
        let key = source.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        let directory = CLI.packageRoot.appendingPathComponent(".build-sqlite/standin-" + String(key, radix: 16))
        let library = directory.appendingPathComponent("libvoidstar.so")
        if FileManager.default.fileExists(atPath: library.path) { return library }
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Built under a name of this process's own and renamed into place, so test processes
        // building it at once never load a half-written library.
        let unique = UUID().uuidString
        let sourceFile = directory.appendingPathComponent("voidstar-\(unique).c")
        let built = directory.appendingPathComponent("libvoidstar-\(unique).so")
        try! source.write(to: sourceFile)
        let cc = try! CLI.exec(URL(fileURLWithPath: "/usr/bin/cc"), ["-shared", "-fPIC", "-o", built.path, sourceFile.path])
        try! FileManager.default.removeItem(at: sourceFile)
        precondition(cc.status == 0, "cannot build the stand-in libvoidstar: \(cc.stderr)")
        precondition(rename(built.path, library.path) == 0, "cannot move the stand-in libvoidstar into place")
        return library
    }()

    static let source = """
            #include <stdint.h>
            #include <stdio.h>
            #include <stdlib.h>
            static uint64_t state = 0x2545F4914F6CDD1DULL;
            static int started = 0;
            static void append(const char *name, const char *bytes, size_t length) {
                const char *path = getenv(name);
                if (!path) return;
                FILE *file = fopen(path, "a");
                if (!file) return;
                fwrite(bytes, 1, length, file);
                fputc('\\n', file);
                fclose(file);
            }
            void fuzz_json_data(const char *message, size_t length) { append("STANDIN_MESSAGES", message, length); }
            void fuzz_flush(void) {}
            uint64_t fuzz_get_random(void) {
                if (!started) {
                    started = 1;
                    const char *start = getenv("STANDIN_STATE");
                    if (start) state = strtoull(start, 0, 0);
                }
                state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                append("STANDIN_RANDOM", "r", 1);
                return state ^ (state >> 29);
            }
            """

    /// The environment that loads the stand-in, recording into `scratch` under `name`.
    static func environment(_ scratch: Scratch, _ name: String, state: UInt64? = nil) -> [String: String] {
        var environment = [
            "SQLITE_STRESS_VOIDSTAR": library.path,
            "STANDIN_MESSAGES": scratch.file("\(name).messages").path,
            "STANDIN_RANDOM": scratch.file("\(name).random").path,
        ]
        if let state { environment["STANDIN_STATE"] = String(state) }
        return environment
    }

    /// How many values the process named `name` drew.
    static func draws(_ scratch: Scratch, _ name: String) -> Int {
        ((try? Data(contentsOf: scratch.file("\(name).random"))) ?? Data()).count / 2
    }

    /// The messages the process named `name` sent, one per line.
    static func messages(_ scratch: Scratch, _ name: String) -> [String] {
        let text = (try? String(contentsOf: scratch.file("\(name).messages"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }
}
