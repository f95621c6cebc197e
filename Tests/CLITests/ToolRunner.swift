import Foundation
import XCTest

/// Runs the `rubble` executable built next to this test bundle.
struct ToolRunner {
    struct Outcome {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    static var executable: URL {
        // The test bundle sits in the build products folder, beside the tool.
        var directory = Bundle(for: BundleLocator.self).bundleURL.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: directory.appendingPathComponent("rubble").path) {
            directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        }
        return directory.appendingPathComponent("rubble")
    }

    /// Runs the tool with `arguments`; in `directory` (the working directory) when given.
    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        if let directory { process.currentDirectoryURL = directory }
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes to the end before waiting, so a chatty tool cannot block on a full pipe.
        let errorData = DataBox()
        let errorReader = Thread { errorData.data = err.fileHandleForReading.readDataToEndOfFile() }
        errorReader.start()
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorReader.isFinished { usleep(1000) }
        return Outcome(status: process.terminationStatus,
                       standardOutput: String(decoding: outputData, as: UTF8.self),
                       standardError: String(decoding: errorData.data, as: UTF8.self))
    }
}

private final class BundleLocator {}

/// Standard error's bytes, filled by the reader thread and read after it finished.
private final class DataBox: @unchecked Sendable {
    var data = Data()
}

/// A fresh temporary directory, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}
