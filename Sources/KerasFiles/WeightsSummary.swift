import Foundation
import Tensor

extension WeightsFileInfo {
    /// A human-readable table: layout, versions, metadata, then one line per layer with its
    /// weight shapes and parameter count, and the totals (what `rubble inspect` prints).
    public var summary: String {
        var lines = ["file:    \(url.path)", "layout:  \(layout)"]
        if kerasVersion != nil || backend != nil {
            lines.append("keras:   " + [kerasVersion, backend.map { "backend \($0)" }].compactMap { $0 }.joined(separator: ", "))
        }
        if let classes = metadata.classNames { lines.append("classes: " + classes.joined(separator: ", ")) }
        if let input = metadata.inputShape { lines.append("input:   " + input.map(String.init).joined(separator: "x")) }
        lines.append("")
        let rows = layers.map { layer -> (String, String, String) in
            let weights = layer.weights.isEmpty ? "-" : layer.weights
                .map { "\($0.role ?? $0.name) \($0.shape)" }.joined(separator: ", ")
            return (layer.qualifiedName, weights, Self.grouped(layer.parameterCount))
        }
        let header = ("layer", "weights", "parameters")
        let nameWidth = (rows.map(\.0.count) + [header.0.count]).max() ?? 0
        let weightWidth = (rows.map(\.1.count) + [header.1.count]).max() ?? 0
        let countWidth = (rows.map(\.2.count) + [header.2.count]).max() ?? 0
        func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, width - text.count))
            return right ? fill + text : text + fill
        }
        for row in [header] + rows {
            lines.append(pad(row.0, nameWidth) + "  " + pad(row.1, weightWidth) + "  " + pad(row.2, countWidth, right: true))
        }
        lines.append("")
        lines.append("total: \(layers.count) layers (\(layersWithWeights.count) with weights), "
            + "\(Self.grouped(parameterCount)) parameters")
        return lines.joined(separator: "\n")
    }

    /// 20024384 -> "20,024,384".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return (value < 0 ? "-" : "") + result
    }
}
