import ArgumentParser
import StressAntithesis
import StressKit

/// The container entrypoint's announcement that the system is ready.
struct SetupComplete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup-complete",
        abstract: "Tell Antithesis the system is ready (the container entrypoint runs this).",
        discussion: """
            Sends {"antithesis_setup": {"status": "complete", …}} the way every SDK message goes: to \
            libvoidstar inside Antithesis, else appended to $ANTITHESIS_SDK_LOCAL_OUTPUT, else to \
            $ANTITHESIS_OUTPUT_DIR/sdk.jsonl, else nowhere. Antithesis then snapshots the system and \
            starts the test commands and faults; it takes the first announcement from any process and \
            ignores later ones, so only the container that comes up last should make it.
            """,
        shouldDisplay: false
    )

    func run() throws {
        let output = Output.shared
        if let failure = output.failure { throw ToolError("cannot announce setup_complete: \(failure).") }
        guard output.isActive else { return }  // No SDK output configured: nobody to tell.
        guard output.setupComplete() else {
            throw ToolError("cannot announce setup_complete: writing to the SDK output failed.")
        }
    }
}
