import AtomicFiles
import Foundation
import GradCAM
import Tensor
import Vision

/// Grad-CAM panels of flagged photos and the names and links that point to them.
extension Screener {
    func writePanels(_ explained: [(slot: Int, explanation: ImageExplanation)], in slots: inout [Slot]) {
        let flagged = explained.map(\.slot), explanations = explained.map(\.explanation)
        // Panels are drawn, PNG-encoded and written over the cores (encoding dominates).
        let jobs = zip(flagged, explanations).map { i, explanation in
            let path = slots[i].row.path
            return (image: slots[i].reduced!.thumbnail!, explanation: explanation, title: (path as NSString).lastPathComponent,
                    url: gradcamDirectory.appendingPathComponent(GradCAMReport.panelFileName(stem: slots[i].stem ?? uniqueStem(for: path))))
        }
        var failures = [String?](repeating: nil, count: jobs.count)
        let classNames = options.classNames
        failures.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            Parallel.forEachRange(jobs.count) { range in
                for j in range {
                    let job = jobs[j]
                    let picture = GradCAMReport.panel(for: job.image, explanation: job.explanation,
                                                      classNames: classNames, title: job.title)
                    do {
                        // zlib level 1: ~14 ms for a 950x350 panel against ~100 ms at the default
                        // level 6, for files ~20 % larger.
                        try AtomicFile.write(try ImageEncoder.png(picture, compressionLevel: 1), to: job.url)
                    } catch {
                        out.value[j] = "\(error)"
                    }
                }
            }
        }
        for (j, i) in flagged.enumerated() {
            if let failure = failures[j] {
                warn(failure)
            } else {
                slots[i].row.panel = "gradcam/" + jobs[j].url.lastPathComponent
                summary.explained += 1
            }
        }
    }

    /// `a`, then `a-2`, `a-3`, ... for photos with the same file name in different folders.
    /// Backslashes (from escaped names) and control characters become "_" in file names.
    func uniqueStem(for path: String) -> String {
        let stem = GradCAMReport.stem(of: URL(fileURLWithPath: path))
        let base = String(stem.unicodeScalars.map { $0 == "\\" || $0.value < 0x20 ? "_" : Character($0) })
        var unique = base, n = 1
        while stems.contains(unique) {
            n += 1
            unique = "\(base)-\(n)"
        }
        stems.insert(unique)
        return unique
    }

    /// The photo's path relative to the output folder (for links in the report), as bytes;
    /// absolute when the two have only "/" in common.
    func relativePath(of path: [UInt8]) -> [UInt8] {
        let target = path.split(separator: 0x2F).map(Array.init)
        let base = outputPath.split(separator: 0x2F).map(Array.init)
        var common = 0
        while common < min(target.count, base.count) && target[common] == base[common] { common += 1 }
        if common == 0 { return path }
        let parts = Array(repeating: [UInt8]("..".utf8), count: base.count - common) + target[common...]
        return Array(parts.joined(separator: [0x2F]))
    }
}
