import ArgumentParser
import Foundation
import Tensor

/// The tool's version (semantic versioning; the git tags are the same numbers, see CHANGELOG.md).
let rubbleVersion = "0.2.0"

@main
struct Rubble: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rubble",
        abstract: "Fine-tune VGG on labelled photos, screen new photos, and explain the decisions.",
        version: rubbleVersion,
        subcommands: [Bench.self, Inspect.self, TrainCommand.self, TrainSegmenterCommand.self, EvaluateCommand.self, Predict.self, GradCAMCommand.self, DedupCommand.self, ScreenCommand.self, WorkerCommand.self, ExportCommand.self, VerdictsCommand.self, ServeCommand.self, UsersCommand.self, SegmentCommand.self, DemoCommand.self])

    /// Runs the command and reports every failure the same way: `rubble: error: <what>` on
    /// standard error (with a usage hint for a mistyped command line), exit status 64 for a
    /// bad command line or flag value, 1 for a failure while working.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let word = arguments.first, !word.hasPrefix("-"), let hint = CommandSuggestion.hint(for: word) {
            CommandLineMessages.error(hint)
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        do {
            var command = try parseAsRoot(arguments)
            let settings = KernelEnvironment.problems()
            if !settings.isEmpty {
                throw ValidationError(settings.joined(separator: "; "))
            }
            try BLAS.ensureLoaded()
            try command.run()
        } catch {
            exit(reporting: error)
        }
    }

    private static func exit(reporting error: Error) -> Never {
        let code = error is ValidationError ? ExitCode.validationFailure : exitCode(for: error)
        if error is ExitCode { Foundation.exit(code.rawValue) }  // the command already said why
        if code == .success {  // --help, --version
            print(fullMessage(for: error))
            Foundation.exit(0)
        }
        let message = ErrorSentence.isFoundationError(error) ? ErrorSentence.describe(error) : message(for: error)
        CommandLineMessages.error(message.isEmpty ? ErrorSentence.describe(error) : message)
        if isCommandLineMistake(error) {
            let subcommand = arguments().first { !$0.hasPrefix("-") } ?? ""
            CommandLineMessages.line("run 'rubble \(subcommand.isEmpty ? "" : subcommand + " ")--help' for the flags")
        }
        Foundation.exit(code == .success ? 1 : code.rawValue)
    }

    /// Whether the error is about the command line itself (an unknown flag, a missing value).
    private static func isCommandLineMistake(_ error: Error) -> Bool {
        !(error is ValidationError) && exitCode(for: error) == .validationFailure
    }

    private static func arguments() -> [String] { Array(CommandLine.arguments.dropFirst()) }
}

/// "did you mean" for a mistyped subcommand.
enum CommandSuggestion {
    static var names: [String] {
        Rubble.configuration.subcommands.map { $0._commandName } + ["help"]
    }

    /// A message when `word` is not a subcommand but close to one (or to none).
    static func hint(for word: String) -> String? {
        guard !names.contains(word) else { return nil }
        let ranked = names.map { ($0, distance(word, $0)) }.sorted { $0.1 < $1.1 }
        if let best = ranked.first, best.1 <= max(2, word.count / 3) {
            return "unknown command '\(word)'; did you mean '\(best.0)'?"
        }
        return "unknown command '\(word)'; the commands are " + names.dropLast().joined(separator: ", ")
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

/// Lines on standard error in the tool's one style: `rubble: error: ...`, `rubble: ...`.
enum CommandLineMessages {
    static func error(_ message: String) { line("error: " + message) }

    static func line(_ message: String) {
        FileHandle.standardError.write(Data("rubble: \(message)\n".utf8))
    }
}
