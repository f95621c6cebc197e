import Tensor

extension ExecutionPlan {
    /// This plan as inference runs it (`training: false`, no gradients): fewer steps and
    /// fewer passes over memory, the same output up to rounding.
    ///
    /// - Each linear `Conv2D` or `DepthwiseConv2D` absorbs a `ZeroPadding2D` that only it reads,
    ///   then, following a chain of values each read by one step only, a `BatchNormalization`
    ///   (folded into its weights), for a `Conv2D` a two-input `Add` (the other operand becomes
    ///   a residual added in its output pass), and an activation layer (ReLU, ReLU6, GELU, swish):
    ///   one ``FusedConvolution`` at the position of the last layer it absorbs, named after it.
    /// - `Dropout` steps (identity at inference) are dropped.
    ///
    /// Only the model's output is kept as it was: values of absorbed layers no longer exist, so
    /// taps and stops (Grad-CAM, the feature cache) use the plan itself.
    public func fusedForInference() -> ExecutionPlan {
        var readers = [[Int]](repeating: [], count: steps.count + 1)
        for (s, step) in steps.enumerated() {
            for input in step.inputs { readers[input + 1].append(s) }
        }
        var absorbed = Set<Int>()
        var alias: [Int: Int] = [:]
        var fused: [Int: Step] = [:]
        /// The step that alone reads `value` (which is not the model's output), if one does,
        /// looking through dropouts (identity here): the reader, the value it reads (`value` or
        /// a dropout's) and the dropouts passed.
        func soleReader(_ value: Int) -> (step: Int, reads: Int, dropouts: [Int])? {
            var value = value, dropouts: [Int] = []
            while true {
                guard value != output, readers[value + 1].count == 1 else { return nil }
                let reader = readers[value + 1][0]
                guard !absorbed.contains(reader), fused[reader] == nil else { return nil }
                guard steps[reader].layer is Dropout else { return (reader, value, dropouts) }
                dropouts.append(reader)
                value = reader
            }
        }
        for (s, step) in steps.enumerated() where step.layer is Dropout {
            alias[s] = step.inputs[0]
        }
        for (s, step) in steps.enumerated() where !absorbed.contains(s) && fused[s] == nil {
            if step.layer is Dropout {
                absorbed.insert(s)
                continue
            }
            let base: FusedConvolution.Base
            switch step.layer {
            case let conv as Conv2D where conv.activation == .linear: base = .convolution(conv)
            case let depthwise as DepthwiseConv2D: base = .depthwise(depthwise)
            default: continue
            }
            var group: [Int] = []
            var input = step.inputs[0]
            var padding: ZeroPadding2D?
            if input >= 0, let pad = steps[input].layer as? ZeroPadding2D, soleReader(input)?.step == s {
                padding = pad
                group.append(input)
                input = steps[input].inputs[0]
            }
            var end = s
            /// Moves the group's end to `next`, absorbing the old end and the dropouts between.
            func extend(to next: (step: Int, reads: Int, dropouts: [Int])) {
                group.append(end)
                group += next.dropouts
                end = next.step
            }
            var batchNorm: BatchNormalization?
            if let next = soleReader(end), let bn = steps[next.step].layer as? BatchNormalization {
                batchNorm = bn
                extend(to: next)
            }
            var residual: Int?, residualAdd: Add?, residualComesFirst = false
            if case .convolution = base, let next = soleReader(end), let add = steps[next.step].layer as? Add {
                let operands = steps[next.step].inputs
                if operands.count == 2, let other = operands.first(where: { $0 != next.reads }) {
                    residual = other
                    residualAdd = add
                    residualComesFirst = operands[0] == other
                    extend(to: next)
                }
            }
            var activationLayer: (any Layer)?
            if let next = soleReader(end), KernelEpilogue(layer: steps[next.step].layer) != nil {
                activationLayer = steps[next.step].layer
                extend(to: next)
            }
            guard end != s || padding != nil,
                  let layer = try? FusedConvolution(padding: padding, base: base, batchNorm: batchNorm,
                                                    residualAdd: residualAdd, residualComesFirst: residualComesFirst,
                                                    activationLayer: activationLayer)
            else { continue }
            absorbed.formUnion(group)
            fused[end] = Step(layer: layer, inputs: [input] + (residual.map { [$0] } ?? []))
        }
        guard !absorbed.isEmpty else { return self }

        func resolved(_ value: Int) -> Int {
            var value = value
            while let earlier = alias[value] { value = earlier }
            return value
        }
        // Every value a kept step reads is made by a kept step before it (absorbed values are
        // read only inside their group); should that ever not hold, the plan runs unfused.
        var newIndex: [Int: Int] = [Self.inputValue: Self.inputValue]
        var newSteps: [Step] = []
        for (s, step) in steps.enumerated() where !absorbed.contains(s) {
            let kept = fused[s] ?? step
            let inputs = kept.inputs.compactMap { newIndex[resolved($0)] }
            guard inputs.count == kept.inputs.count else { return self }
            newSteps.append(Step(layer: kept.layer, inputs: inputs))
            newIndex[s] = newSteps.count - 1
        }
        guard let newOutput = newIndex[resolved(output)] else { return self }
        var names: [String: Int] = [:]
        for (name, value) in valueIndex {
            if let index = newIndex[resolved(value)] { names[name] = index }
        }
        return ExecutionPlan(steps: newSteps, output: newOutput, valueIndex: names)
    }
}
