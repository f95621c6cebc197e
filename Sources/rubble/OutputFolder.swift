import ArgumentParser
import Foundation

/// Checks an `--out` folder before any work: a path that exists as a file (not a folder) is a
/// plain message rather than an error from deep inside a write.
enum OutputFolder {
    static func url(_ path: String, flag: String = "--out") throws -> URL {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ValidationError("\(flag) \(path) is an existing file, not a folder: give a folder path")
        }
        return URL(fileURLWithPath: path, isDirectory: true)
    }
}
