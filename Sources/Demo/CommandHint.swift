import Foundation

/// Shell commands printed for a person to copy: the running program's real path (not a bare
/// name that may not be on `PATH`) and arguments quoted for a POSIX shell.
public enum CommandHint {
    /// The absolute path of the running executable: the target of `/proc/self/exe`, else
    /// `CommandLine.arguments[0]` made absolute (against the working directory when it has a
    /// slash, through `PATH` when it is a bare name), else the bare name.
    public static func executablePath(arguments: [String] = CommandLine.arguments,
                                      environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let fm = FileManager.default
        if let target = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe"), target.hasPrefix("/"),
           fm.isExecutableFile(atPath: target) {
            return target
        }
        let first = arguments.first ?? "rubble"
        if first.contains("/") { return URL(fileURLWithPath: first).standardizedFileURL.path }
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(first).standardizedFileURL.path
            if candidate.hasPrefix("/"), fm.isExecutableFile(atPath: candidate) { return candidate }
        }
        return first
    }

    /// `text` as one shell word: unchanged when it holds only safe characters
    /// (letters, digits, `_ - . / + = : , @ %`), else in single quotes (`'` written as `'\''`).
    public static func quoted(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+=:,@%")
        if !text.isEmpty, text.allSatisfy(safe.contains) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// The words joined into one command line, each quoted as needed.
    public static func commandLine(_ words: [String]) -> String {
        words.map(quoted).joined(separator: " ")
    }

    /// The `train` command that repeats the demo's training on its data folder with `executable`:
    /// the same architecture, head, image size, learning rate, epochs, batch size, seed and
    /// balanced class weights, into `DIR/run2`.
    public static func demoTrainCommand(executable: String, result: DemoResult, options: DemoOptions) -> String {
        let outDirectory = options.directory.standardizedFileURL.appendingPathComponent("run2").path
        return commandLine([
            executable, "train", "--data", result.dataDirectory.standardizedFileURL.path,
            "--val-split", String(options.validationFraction), "--arch", "baseline", "--head", "64",
            "--image-size", String(options.imageSize), "--lr", "\(options.learningRate)",
            "--epochs", String(options.epochs), "--batch-size", String(options.batchSize),
            "--seed", String(options.seed), "--class-weight", "balanced", "--out", outDirectory,
        ])
    }
}
