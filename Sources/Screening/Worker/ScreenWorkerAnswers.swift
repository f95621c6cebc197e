import Foundation
import GradCAM
import Layers
import Tensor
import Vision

/// From decided slots to results: the relevancy filter, the model (with Grad-CAM maps), the
/// panels and the severity stage.
extension ScreenWorker {
    func answer(_ slots: [Slot]) throws -> [PhotoResult] {
        var results = slots.map { slot in
            var result = PhotoResult(job: slot.job.job, photo: slot.job.photo, status: .error)
            result.milliseconds = slot.seconds * 1000
            return result
        }
        var chosen: [Int] = []
        for (i, slot) in slots.enumerated() {
            let decision = duplicates.decisions[slot.job.photo]
            switch decision?.kind {
            case .exact?, .near?:
                results[i].status = .duplicate
                summary.images += 1
                if decision?.kind == .exact { summary.exactDuplicates += 1 } else { summary.nearDuplicates += 1 }
            case .unique? where slot.reduced != nil:
                chosen.append(i)
            default:
                // Never decoded (or decoded by an earlier run and not kept here).
                summary.images += 1
                let p = slot.preparation
                if p?.outcome == .tooSmall, let w = p?.width, let h = p?.height {
                    results[i].errorKind = .tooSmall
                    results[i].error = "too small: \(w)x\(h) (minimum \(slot.options.minimumSide) px per side)"
                    summary.tooSmall += 1
                } else {
                    results[i].errorKind = .unreadable
                    results[i].error = p?.message ?? "\(slot.job.path): not read"
                    summary.unreadable += 1
                    if p?.mayChange == true {
                        retryable.append(slot.job.photo)
                        warn(results[i].error)
                    } else if p?.message != nil {
                        warn(results[i].error)
                    }
                }
            }
        }
        guard !chosen.isEmpty else { return results }
        summary.images += chosen.count
        var relevant = chosen
        if let relevance {
            let clock = ContinuousClock.now
            let input = batch(chosen.map { slots[$0].reduced!.otherInputs[0] }, side: relevance.pipeline.imageSize)
            let p = try probabilities(of: input, with: relevance.model)
            relevant = []
            for (n, i) in chosen.enumerated() {
                let score = p[n].indices.contains(relevance.relevantClass) ? p[n][relevance.relevantClass] : .nan
                results[i].relevance = score
                if score.isFinite && score < relevance.threshold {
                    results[i].status = .irrelevant
                    results[i].label = RelevanceFilter.label
                    summary.irrelevant += 1
                } else {
                    relevant.append(i)
                }
            }
            let s = seconds(since: clock)
            summary.times.add("relevance", items: chosen.count, seconds: s)
            for i in chosen { results[i].milliseconds += s * 1000 / Double(chosen.count) }
        }
        guard !relevant.isEmpty else { return results }
        var clock = ContinuousClock.now
        let explain = relevant.contains { slots[$0].options.explain }
        let (probabilities, explanations) = try forward(batch(relevant.map { slots[$0].reduced!.input }, side: pipeline.imageSize),
                                                        explain: explain)
        let classifySeconds = seconds(since: clock)
        summary.times.add("classify", items: relevant.count, seconds: classifySeconds)
        guard probabilities.first?.count == classNames.count else {
            throw ScreenError.invalidOption("the model has \(probabilities.first?.count ?? 0) outputs but \(classNames.count) class names")
        }
        var flagged: [(slot: Int, explanation: ImageExplanation?)] = []
        for (n, i) in relevant.enumerated() {
            let p = probabilities[n], options = slots[i].options
            results[i].milliseconds += classifySeconds * 1000 / Double(relevant.count)
            guard p.allSatisfy(\.isFinite) else {
                // A NaN compares false with everything: as a label it would read "intact" and
                // never be flagged. It is an error, and says which values came out.
                let values = zip(classNames, p).map { "p_\($0)=\($1.isNaN ? "nan" : "\($1)")" }.joined(separator: ", ")
                results[i].errorKind = .nonFinite
                results[i].error = "\(slots[i].job.path): the model's output is not finite (\(values)): not classified; "
                    + "the weights or the model are broken"
                summary.nonFinite += 1
                warn(results[i].error)
                continue
            }
            summary.classified += 1
            results[i].status = .done
            results[i].probabilities = p
            results[i].label = classNames[p.indices.max { p[$0] < p[$1] } ?? 0]
            if options.positive < p.count, p[options.positive] >= options.threshold {
                results[i].flagged = true
                summary.flagged += 1
                var explanation = options.explain ? explanations?[n] : nil
                if let e = explanation, !e.maps.allSatisfy({ $0.values.allSatisfy(\.isFinite) }) {
                    warn("\(slots[i].job.path): the Grad-CAM heat map is not finite; no panel drawn")
                    explanation = nil
                }
                flagged.append((i, explanation))
            }
        }
        let explained = flagged.compactMap { f in f.explanation.map { (f.slot, $0) } }
        if !explained.isEmpty {
            clock = ContinuousClock.now
            let panels = drawPanels(explained, slots: slots)
            let s = seconds(since: clock)
            summary.times.add("explain", items: explained.count, seconds: s)
            for ((i, _), png) in zip(explained, panels) {
                results[i].milliseconds += s * 1000 / Double(explained.count)
                if let png {
                    results[i].panels.append((kind: ScreenExport.gradcamKind, png: png))
                    summary.explained += 1
                }
            }
        }
        if let assessor, !flagged.isEmpty {
            clock = ContinuousClock.now
            assessSeverity(flagged.map(\.slot), slots: slots, results: &results, with: assessor)
            let s = seconds(since: clock)
            summary.times.add("severity", items: flagged.count, seconds: s)
            for f in flagged { results[f.slot].milliseconds += s * 1000 / Double(flagged.count) }
        }
        return results
    }

    /// Class probabilities for a batch; with `explain`, also every class's Grad-CAM map for
    /// every image. Grad-CAM's split of the model makes that nearly free: the prefix up to the
    /// last convolution runs once without a graph, the logits come from the small suffix, and
    /// each class costs one pass back through the suffix only.
    private func forward(_ input: Tensor, explain: Bool) throws -> (probabilities: [[Float]], explanations: [ImageExplanation]?) {
        if explain {
            do {
                if gradCAMSplit == nil { gradCAMSplit = try GradCAM(model: model, layer: gradCAMLayer) }
                let explanations = try GradCAMReport.explain(input, with: gradCAMSplit!)
                return (explanations.map(\.probabilities), explanations)
            } catch {
                warn("Grad-CAM failed on a batch (\(error)); classifying it without maps")
            }
        }
        return (try probabilities(of: input, with: model), nil)
    }

    private func probabilities(of input: Tensor, with model: any Layer) throws -> [[Float]] {
        let output = try withoutGradients { try model(input) }
        let k = output.shape[1]
        let values = output.scalars
        return (0..<output.shape[0]).map { Array(values[$0 * k..<($0 + 1) * k]) }
    }

    /// The batch tensor of model inputs of `side * side * 3` floats each.
    private func batch(_ inputs: [[Float]], side: Int) -> Tensor {
        let length = side * side * 3
        return Tensor(unsafeUninitializedShape: Shape([inputs.count, side, side, 3])) { buffer in
            for (n, input) in inputs.enumerated() {
                input.withUnsafeBufferPointer { source in
                    let count = min(length, source.count)
                    buffer.baseAddress!.advanced(by: n * length).update(from: source.baseAddress!, count: count)
                    if count < length { buffer.baseAddress!.advanced(by: n * length + count).initialize(repeating: 0, count: length - count) }
                }
            }
        }
    }
}
