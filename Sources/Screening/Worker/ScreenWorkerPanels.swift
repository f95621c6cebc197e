import GradCAM
import Tensor
import Vision

/// Grad-CAM panels of flagged photos, PNG-encoded for the store.
extension ScreenWorker {
    /// The PNG of each explained slot's panel (the photo, then every class's map over it); nil
    /// where encoding failed (a warning). Drawn and encoded over the cores (encoding dominates).
    func drawPanels(_ explained: [(slot: Int, explanation: ImageExplanation)], slots: [Slot]) -> [[UInt8]?] {
        let jobs = explained.map { i, explanation in
            (image: slots[i].reduced!.thumbnail, explanation: explanation,
             title: String(slots[i].job.path.split(separator: "/").last ?? Substring(slots[i].job.path)))
        }
        var panels = [[UInt8]?](repeating: nil, count: jobs.count)
        var failures = [String?](repeating: nil, count: jobs.count)
        let classNames = self.classNames
        panels.withUnsafeMutableBufferPointer { out in
            failures.withUnsafeMutableBufferPointer { failed in
                let out = UncheckedSendable(out), failed = UncheckedSendable(failed)
                Parallel.forEachRange(jobs.count) { range in
                    for j in range {
                        guard let image = jobs[j].image else { continue }
                        let picture = GradCAMReport.panel(for: image, explanation: jobs[j].explanation,
                                                          classNames: classNames, title: jobs[j].title)
                        do {
                            // zlib level 1: ~14 ms for a 950x350 panel against ~100 ms at the
                            // default level 6, for files ~20 % larger.
                            out.value[j] = [UInt8](try ImageEncoder.png(picture, compressionLevel: 1))
                        } catch {
                            failed.value[j] = "\(jobs[j].title): cannot encode the Grad-CAM panel (\(error))"
                        }
                    }
                }
            }
        }
        for case let failure? in failures { warn(failure) }
        return panels
    }
}
