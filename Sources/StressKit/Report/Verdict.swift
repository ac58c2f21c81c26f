/// A command's `result` in its JSON once its SDK output could not take every
/// message (`sdkOutputFailure`): a "pass", or a "skipped" that exits 0, is then
/// "error", as its exit status is 2, since its assertions may be missing from
/// what the runner judges.
func resultWord(_ word: String, sdkOutputFailure: String?) -> String {
    sdkOutputFailure != nil && (word == "pass" || word == "skipped") ? "error" : word
}

/// The text report's last line when nothing was found: PASS, with `verdict`
/// saying what held; NO VERDICT once the SDK output could not take every
/// message, as the command then exits 2 (the sentence naming the failure
/// follows on stderr).
func passLine(_ verdict: String, sdkOutputFailure: String?) -> String {
    guard sdkOutputFailure != nil else { return "result: PASS — " + verdict }
    return "result: NO VERDICT — \(verdict), but the SDK output failed, so assertions may be missing from it"
}
