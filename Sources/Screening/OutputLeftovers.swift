import AtomicFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Temporary files that an interrupted atomic write left in an output folder.
///
/// ``AtomicFiles/AtomicFile`` writes `name` through a hidden temporary beside it,
/// `.<name>.<pid>.<random>.tmp`, renamed onto `name` when complete; a crash or `kill -9` in
/// between leaves the temporary behind. At its start, `rubble screen` removes the temporaries
/// of the files it writes (`results.csv`, `report.html`, `*_gradcam.png`, `*_segment.png`)
/// from its output folder, `gradcam/` and `segment/`, unless the process that made them is still running (two runs into
/// one folder must not break each other's writes). Nothing else is touched.
public enum OutputLeftovers {
    /// The names of the files screening writes into its output folders.
    static func isScreenOutput(_ name: String) -> Bool {
        name == ScreenResults.fileName || name == ScreenReport.fileName || name.hasSuffix("_gradcam.png")
            || name.hasSuffix("_segment.png")
    }

    /// The target name and writer's process id of an AtomicFile temporary name, or nil.
    public static func parse(_ temporaryName: String) -> (target: String, pid: Int32)? {
        AtomicFile.parseTemporaryName(temporaryName)
    }

    /// Removes leftover temporaries of screening's files from `folders`; returns their paths.
    @discardableResult
    public static func remove(in folders: [URL]) -> [String] {
        var removed: [String] = []
        for folder in folders {
            let path = Array(folder.standardizedFileURL.path.utf8)
            for nameBytes in POSIXPath.list(path).names {
                guard let name = String(validating: nameBytes, as: UTF8.self), let (target, pid) = parse(name),
                      isScreenOutput(target), !isRunning(pid) else { continue }
                let file = path + [0x2F] + nameBytes
                guard let info = POSIXPath.linkInfo(file), info.st_mode & S_IFMT == S_IFREG else { continue }
                if POSIXPath.withCString(file, { unlink($0) }) == 0 { removed.append(String(decoding: file, as: UTF8.self)) }
            }
        }
        return removed.sorted()
    }

    /// Removes the panels (`*<suffix>`: Grad-CAM's `*_gradcam.png`, or the severity panels'
    /// `*_segment.png`) of an earlier run from `folder` (for `--overwrite`: a new run must not
    /// show an old run's panels beside its own).
    public static func removePanels(in folder: URL, suffix: String = "_gradcam.png") {
        let path = Array(folder.standardizedFileURL.path.utf8)
        for nameBytes in POSIXPath.list(path).names {
            guard let name = String(validating: nameBytes, as: UTF8.self), name.hasSuffix(suffix),
                  !name.hasPrefix(".") else { continue }
            let file = path + [0x2F] + nameBytes
            guard let info = POSIXPath.linkInfo(file), info.st_mode & S_IFMT == S_IFREG else { continue }
            _ = POSIXPath.withCString(file) { unlink($0) }
        }
    }

    /// Whether a process with this id exists (one we may not signal exists too).
    static func isRunning(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
