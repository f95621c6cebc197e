import Foundation
import Tensor
import Vision

/// The severity stage: flagged photos decoded again for the ``DamageAssessor``, assessed, and
/// their panels PNG-encoded for the store.
extension ScreenWorker {
    /// A flagged photo decoded for the assessor, or why it could not be.
    private enum Decoded {
        case image(RGBImage)
        case failure(String)
    }

    /// Assesses the flagged slots (indices into `slots` and `results`) and records severity,
    /// summary and panel in their results. Never throws: every failure is a warning and an empty
    /// severity for the photo concerned.
    func assessSeverity(_ flagged: [Int], slots: [Slot], results: inout [PhotoResult], with assessor: any DamageAssessor) {
        let images = decodeForAssessment(flagged.map { slots[$0].job }, side: assessor.imageSide)
        var ready: [(slot: Int, image: RGBImage)] = []
        for (n, i) in flagged.enumerated() {
            switch images[n] {
            case .image(let image): ready.append((i, image))
            case .failure(let message): warn(message)
            }
        }
        let answers = assess(ready.map(\.image), paths: ready.map { slots[$0.slot].job.path }, with: assessor)
        var panels: [(slot: Int, panel: RGBImage)] = []
        for ((i, _), answer) in zip(ready, answers) {
            guard let answer else { continue }
            if let severity = answer.severity, !(severity.isFinite && severity >= 0 && severity <= 1) {
                warn("\(slots[i].job.path): the damage assessment gave severity \(severity), not a number in [0, 1]; "
                     + "severity not recorded")
                continue
            }
            results[i].severity = answer.severity
            results[i].severitySummary = answer.summary
            summary.assessed += 1
            if let severity = answer.severity {
                summary.scored += 1
                summary.severityTotal += severity
            }
            if let panel = answer.panel { panels.append((i, panel)) }
        }
        var encoded = [[UInt8]?](repeating: nil, count: panels.count)
        encoded.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            Parallel.forEachRange(panels.count) { range in
                // zlib level 1, as the Grad-CAM panels: several times faster, files ~20 % larger.
                for j in range { out.value[j] = (try? ImageEncoder.png(panels[j].panel, compressionLevel: 1)).map { [UInt8]($0) } }
            }
        }
        for ((i, _), png) in zip(panels, encoded) {
            guard let png else {
                warn("\(slots[i].job.path): cannot encode the severity panel")
                continue
            }
            results[i].panels.append((kind: ScreenExport.segmentKind, png: png))
            summary.severityPanels += 1
        }
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
    private func decodeForAssessment(_ jobs: [ClaimedJob], side: Int?) -> [Decoded] {
        var decoded = [Decoded](repeating: .failure("not decoded"), count: jobs.count)
        let atLeast = side.map { (width: max(1, $0), height: max(1, $0)) }
        // Uploads' bytes come from the store; if it cannot give them, those photos say why.
        var stored: [Int: [UInt8]] = [:]
        var storeFailure: String?
        do { stored = try store.images(of: jobs.filter(\.imageInStore).map(\.photo)) } catch { storeFailure = "\(error)" }
        decoded.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            Parallel.forEachRange(jobs.count) { range in
                for j in range {
                    let job = jobs[j]
                    if job.imageInStore && stored[job.photo] == nil {
                        out.value[j] = .failure("\(job.path): the store has no bytes for this upload (\(storeFailure ?? "none kept")); "
                                                + "severity not assessed")
                        continue
                    }
                    do {
                        let data = try job.imageInStore ? Data(stored[job.photo] ?? [])
                            : POSIXPath.readFile(job.filePath, followLinks: job.followsLinks)
                        guard SHA256.hash(data).hex == job.digest else {
                            out.value[j] = .failure("\(job.path): the file changed after it was classified; severity not assessed")
                            continue
                        }
                        out.value[j] = .image(try ImageDecoder.decode(data: data, name: job.path, atLeast: atLeast))
                    } catch {
                        let reason = (error as? POSIXPath.ReadFailure)?.reason ?? "\(error)"
                        out.value[j] = .failure("\(job.path): cannot read the photo again for the damage assessment "
                                                + "(\(reason)); severity not assessed")
                    }
                }
            }
        }
        return decoded
    }
}
