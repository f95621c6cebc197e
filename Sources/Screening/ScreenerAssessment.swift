import AtomicFiles
import Digest
import Foundation
import Tensor
import Vision

/// The severity stage: flagged photos decoded again for the ``DamageAssessor``, assessed, and
/// their panels written to `segment/`.
extension Screener {
    /// The folder of the assessor's panels inside the output folder.
    public static let severityPanelFolder = "segment"

    /// `<stem>_segment.png`.
    public static func severityPanelFileName(stem: String) -> String { "\(stem)_segment.png" }

    /// A flagged photo decoded for the assessor, or why it could not be.
    private enum Decoded {
        case image(RGBImage)
        case failure(String)
    }

    /// Assesses the flagged `slots` (indices into `slots`; each already has its stem) with
    /// `assessor` and records severity, summary and panel in their rows. Never throws: every
    /// failure is a warning and an empty severity for the photo concerned.
    func assessSeverity(_ flagged: [Int], in slots: inout [Slot], with assessor: any DamageAssessor) {
        guard !flagged.isEmpty else { return }
        let images = decodeForAssessment(flagged.map { slots[$0] }, side: assessor.imageSide)
        var ready: [(slot: Int, image: RGBImage)] = []
        for (n, i) in flagged.enumerated() {
            switch images[n] {
            case .image(let image): ready.append((i, image))
            case .failure(let message): warn(message)
            }
        }
        let answers = assess(ready.map(\.image), paths: ready.map { slots[$0.slot].row.path }, with: assessor)
        var assessed: [(slot: Int, assessment: DamageAssessment)] = []
        for ((i, _), answer) in zip(ready, answers) {
            guard let answer else { continue }
            if let severity = answer.severity, !(severity.isFinite && severity >= 0 && severity <= 1) {
                warn("\(slots[i].row.path): the damage assessment gave severity \(severity), not a number in [0, 1]; "
                     + "severity not recorded")
                continue
            }
            assessed.append((i, answer))
        }
        let panels = writeSeverityPanels(assessed.compactMap { a in a.assessment.panel.map { (a.slot, $0) } }, in: slots)
        for (i, assessment) in assessed {
            slots[i].row.severity = assessment.severity
            slots[i].row.severitySummary = assessment.summary
            slots[i].row.severityPanel = panels[i]
            summary.assessed += 1
            if let severity = assessment.severity {
                summary.scored += 1
                summary.severityTotal += severity
            }
        }
        summary.severityPanels += panels.count
    }

    /// The assessor's answers for `photos` (nil for a photo it failed on, with a warning). A
    /// batch that throws or answers for the wrong number of photos is asked again photo by photo.
    private func assess(_ photos: [RGBImage], paths: [String], with assessor: any DamageAssessor) -> [DamageAssessment?] {
        guard !photos.isEmpty else { return [] }
        func ask(_ batch: [RGBImage]) throws -> [DamageAssessment] {
            let answers = try assessor.assess(batch)
            guard answers.count == batch.count else {
                throw ScreenError.invalidOption("the damage assessor answered for \(answers.count) of \(batch.count) photos")
            }
            return answers
        }
        if photos.count > 1, let answers = try? ask(photos) { return answers }
        return zip(photos, paths).map { photo, path in
            do {
                return try ask([photo]).first
            } catch {
                warn("\(path): the damage assessment failed (\(error)); severity not assessed")
                return nil
            }
        }
    }

    /// The flagged photos read and decoded again, over the cores, at the assessor's scale. The
    /// bytes must have the digest the photo was classified with: a file that changed since (or
    /// is gone) is not assessed.
    private func decodeForAssessment(_ slots: [Slot], side: Int?) -> [Decoded] {
        let jobs = slots.map { (file: $0.file, digest: $0.row.digest) }
        var decoded = [Decoded](repeating: .failure("not decoded"), count: jobs.count)
        let atLeast = side.map { (width: max(1, $0), height: max(1, $0)) }
        decoded.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            Parallel.forEachRange(jobs.count) { range in
                for j in range {
                    let (file, digest) = jobs[j]
                    do {
                        let data = try POSIXPath.readFile(file.fileSystemPath, followLinks: file.followsLinks)
                        guard SHA256.hash(data).hex == digest else {
                            out.value[j] = .failure("\(file.path): the file changed after it was classified; severity not assessed")
                            continue
                        }
                        out.value[j] = .image(try ImageDecoder.decode(data: data, name: file.path, atLeast: atLeast))
                    } catch {
                        let reason = (error as? POSIXPath.ReadFailure)?.reason ?? "\(error)"
                        out.value[j] = .failure("\(file.path): cannot read the photo again for the damage assessment "
                                                + "(\(reason)); severity not assessed")
                    }
                }
            }
        }
        return decoded
    }

    /// Writes each panel as `segment/<stem>_segment.png` (PNG, over the cores); returns the
    /// relative path of each one written, by slot index. A panel that cannot be written is a warning.
    private func writeSeverityPanels(_ panels: [(slot: Int, panel: RGBImage)], in slots: [Slot]) -> [Int: String] {
        guard !panels.isEmpty else { return [:] }
        let jobs = panels.map { slot, panel in
            let stem = slots[slot].stem ?? uniqueStem(for: slots[slot].row.path)
            return (panel: panel, name: Self.severityPanelFileName(stem: stem))
        }
        let directory = severityDirectory
        var failures = [String?](repeating: nil, count: jobs.count)
        failures.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            Parallel.forEachRange(jobs.count) { range in
                for j in range {
                    do {
                        // zlib level 1, as the Grad-CAM panels: several times faster, files ~20 % larger.
                        try AtomicFile.write(try ImageEncoder.png(jobs[j].panel, compressionLevel: 1),
                                             to: directory.appendingPathComponent(jobs[j].name))
                    } catch {
                        out.value[j] = "\(directory.appendingPathComponent(jobs[j].name).path): cannot write the severity panel (\(error))"
                    }
                }
            }
        }
        var written: [Int: String] = [:]
        for (j, (slot, _)) in panels.enumerated() {
            if let failure = failures[j] {
                warn(failure)
            } else {
                written[slot] = Self.severityPanelFolder + "/" + jobs[j].name
            }
        }
        return written
    }
}
