import Tensor

/// A model's graph as Keras' `model.summary()` shows it: one row per leaf layer in execution
/// order, with its Keras class, output shape, parameter count and the nodes it reads.
public struct ModelSummary: Sendable, CustomStringConvertible {
    public struct Row: Sendable, Equatable {
        public let name: String
        public let kerasClass: String
        /// `[batch, ...]` for a batch of one.
        public let outputShape: Shape
        public let parameters: Int
        public let trainableParameters: Int
        /// The layers whose outputs this one reads (`input_1` for the model input).
        public let inputs: [String]
    }

    public let rows: [Row]

    /// The summary of `model` for one input of `inputShape` (`[height, width, channels]`).
    public init(_ model: any Layer, inputShape: [Int]) throws {
        let plan = try ExecutionPlan(model)
        var shapes: [Int: Shape] = [ExecutionPlan.inputValue: Shape([1] + inputShape)]
        var rows: [Row] = []
        for (index, step) in plan.steps.enumerated() {
            let shape = try step.layer.outputShape(for: step.inputs.map { shapes[$0]! })
            shapes[index] = shape
            let weights = step.layer.parameters
            rows.append(Row(name: step.layer.name, kerasClass: step.layer.kerasClassName, outputShape: shape,
                            parameters: weights.reduce(0) { $0 + $1.shape.count },
                            trainableParameters: weights.filter(\.isTrainable).reduce(0) { $0 + $1.shape.count },
                            inputs: step.inputs.map { $0 < 0 ? "input_1" : plan.steps[$0].layer.name }))
        }
        self.rows = rows
    }

    public var totalParameters: Int { rows.reduce(0) { $0 + $1.parameters } }
    public var trainableParameters: Int { rows.reduce(0) { $0 + $1.trainableParameters } }

    public var description: String {
        let header = ("Layer (type)", "Output shape", "Param #", "Connected to")
        let cells = rows.map { row -> (String, String, String, String) in
            let shape = "[" + (["None"] + row.outputShape.dims.dropFirst().map(String.init)).joined(separator: ", ") + "]"
            return ("\(row.name) (\(row.kerasClass))", shape, String(row.parameters), row.inputs.joined(separator: ", "))
        }
        let w0 = max(header.0.count, cells.map(\.0.count).max() ?? 0)
        let w1 = max(header.1.count, cells.map(\.1.count).max() ?? 0)
        let w2 = max(header.2.count, cells.map(\.2.count).max() ?? 0)
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
        var lines = [pad(header.0, w0) + "  " + pad(header.1, w1) + "  " + pad(header.2, w2) + "  " + header.3]
        for c in cells { lines.append(pad(c.0, w0) + "  " + pad(c.1, w1) + "  " + pad(c.2, w2) + "  " + c.3) }
        lines.append("Total params: \(totalParameters) (trainable \(trainableParameters), "
                     + "non-trainable \(totalParameters - trainableParameters))")
        return lines.joined(separator: "\n")
    }
}
