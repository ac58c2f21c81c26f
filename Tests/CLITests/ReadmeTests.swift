import Foundation
import Testing

/// What the README promises a newcomer works, as written.
@Suite struct ReadmeTests {
    /// The sections a newcomer follows from the top, and runs as written.
    static let walkThrough = ["## Two commands", "## The first hour: a walk-through"]

    /// The ```sh blocks of those sections of README.md, in order.
    static func shellBlocks() throws -> [String] {
        let text = try String(contentsOf: CLI.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var blocks: [String] = [], current: [Substring]?
        var inWalkThrough = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line.hasPrefix("## ") { inWalkThrough = walkThrough.contains(String(line)) }
            guard inWalkThrough else { continue }
            if current == nil, line == "```sh" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    /// A fresh copy of the repository: the files git tracks (or would), none of
    /// what builds and runs leave behind; a git repository of its own, so that
    /// what the walk-through writes can be held to `.gitignore`.
    static func freshCopy(at destination: URL) throws {
        let root = CLI.packageRoot
        let git = URL(fileURLWithPath: "/usr/bin/git")
        let listed = try CLI.exec(git, ["-C", root.path, "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        try #require(listed.status == 0, "git ls-files: \(listed.stderr)")
        let fm = FileManager.default
        for name in listed.stdout.split(separator: "\0").map(String.init) {
            let source = root.appendingPathComponent(name)
            guard fm.fileExists(atPath: source.path) else { continue }  // Deleted but not yet committed.
            let target = destination.appendingPathComponent(name)
            try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(at: source, to: target)
        }
        for arguments in [["init", "-q"], ["add", "-A"], ["-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-qm", "fresh"]] {
            let result = try CLI.exec(git, ["-C", destination.path] + arguments)
            try #require(result.status == 0, "git \(arguments): \(result.stderr)")
        }
    }

    /// PATH as the test has it, minus any directory that holds a `sqlite-stress`:
    /// nothing set by hand, and no installed copy to fall back on.
    static var newcomerPath: String {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .filter { !FileManager.default.isExecutableFile(atPath: "\($0)/sqlite-stress") }.joined(separator: ":")
    }

    // From a fresh copy of the repository, every command block of the README's
    // opening sections — setup, the build and run command, the walk-through
    // (replay, check, exact one-thread reproduction, the compose example) —
    // runs exactly as written, with no sqlite-stress on PATH, and each passes;
    // what they leave behind is all ignored by git. (The test command itself
    // is this test's own run.)
    @Test func walkThroughRunsAsWritten() throws {
        let blocks = try Self.shellBlocks().filter { !$0.contains("swift test") }
        #expect(blocks.count == 5, "\(blocks)")
        #expect(blocks.contains { $0.contains("sqlite-stress stress --threads 4") })
        #expect(blocks.contains { $0.contains("sqlite-stress compose composer/composed") })
        #expect(blocks.contains { $0.contains("sqlite-stress replay ") })
        let scratch = try Scratch()
        let clone = scratch.file("sqlite-stress")
        try Self.freshCopy(at: clone)
        // Temporary files (SwiftPM's locks among them) go where the scratch directory's removal takes them.
        let temporary = scratch.file("tmp")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        let bash = URL(fileURLWithPath: "/bin/bash")
        var outputs: [String] = []
        for block in blocks {
            let result = try CLI.exec(
                bash, ["-e", "-o", "pipefail", "-c", block], in: clone, environment: ["PATH": Self.newcomerPath, "TMPDIR": temporary.path])
            #expect(result.status == 0, "\(block)\n\(result.stdout.suffix(3000))\n\(result.stderr.suffix(3000))")
            outputs.append(result.stdout)
        }
        let all = outputs.joined(separator: "\n")
        #expect(all.contains("result: PASS — every property held"), "the stress run or check did not pass")
        #expect(all.contains("every result as recorded"), "the replay did not match")
        #expect(all.contains("the same log twice"))
        #expect(all.contains("result: PASS — no property failed and every command ended as expected"), "the compose run did not pass")
        let status = try CLI.exec(URL(fileURLWithPath: "/usr/bin/git"), ["-C", clone.path, "status", "--porcelain", "--untracked-files=all"])
        #expect(status.stdout.isEmpty, "left for git to add:\n\(status.stdout.prefix(2000))")
    }
}
