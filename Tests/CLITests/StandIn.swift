import Foundation
import Testing

/// A stand-in for Antithesis's libvoidstar, built from C once per test process
/// and loaded by the binary through `$SQLITE_STRESS_VOIDSTAR`. It appends every
/// message to `$STANDIN_MESSAGES`, one line each, and a line to `$STANDIN_RANDOM`
/// for every `fuzz_get_random` call, so a test can count the draws. Its values
/// come from a fixed generator whose start `$STANDIN_STATE` can change: the same
/// state gives the same sequence of values.
enum StandIn {
    static let library: URL = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-stress-standin-" + UUID().uuidString)
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = directory.appendingPathComponent("voidstar.c")
        try! Data("""
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
            """.utf8).write(to: source)
        let library = directory.appendingPathComponent("libvoidstar.so")
        let cc = try! CLI.exec(URL(fileURLWithPath: "/usr/bin/cc"), ["-shared", "-fPIC", "-o", library.path, source.path])
        precondition(cc.status == 0, "cannot build the stand-in libvoidstar: \(cc.stderr)")
        return library
    }()

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
