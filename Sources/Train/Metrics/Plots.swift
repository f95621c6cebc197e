import Foundation

/// The two figures a run produces: training curves (the paper's Figure 2) and the threshold
/// sweep (Figure 3).
public enum Plots {
    /// Training curves from Keras-style history: `metrics["loss"]`, `metrics["val_loss"]`,
    /// `metrics["accuracy"]`, `metrics["val_accuracy"]`, ... one value per epoch (epoch 1 first).
    /// One panel per base metric (`x` and `val_x` share a panel): loss first, then accuracy,
    /// then the rest sorted; training solid, validation dashed in a second colour, dots at each
    /// epoch up to 40 epochs. The y axis fits the data (accuracy-like panels — `accuracy`, `acc`,
    /// `precision`, `recall`, `auc`, `f1` — never beyond 0-1).
    ///
    /// With a `bestEpoch` every panel gets a dotted vertical line there labelled
    /// `best epoch N (monitor)` (`best epoch N` without a `monitor`); `subtitle` goes under
    /// the title (e.g. which losses are class-weighted).
    public static func trainingCurves(_ metrics: [String: [Double]], title: String? = nil,
                                      bestEpoch: Int? = nil, monitor: String? = nil, subtitle: String? = nil,
                                      panelWidth: Double = 560, panelHeight: Double = 400) -> SVGFigure {
        let markers = bestEpoch.map { epoch in
            [LineChart.Marker(x: Double(epoch), label: "best epoch \(epoch)" + (monitor.map { " (\($0))" } ?? ""),
                              color: "#2ca02c")]
        } ?? []
        var bases: [String] = []
        for key in metrics.keys.sorted() {
            let base = key.hasPrefix("val_") ? String(key.dropFirst(4)) : key
            if !bases.contains(base) { bases.append(base) }
        }
        let priority = ["loss": 0, "accuracy": 1, "acc": 1]
        bases.sort { (priority[$0] ?? 2, $0) < (priority[$1] ?? 2, $1) }
        let unitMetrics: Set<String> = ["accuracy", "acc", "precision", "recall", "auc", "f1"]
        let charts = bases.map { base -> LineChart in
            var series: [LineChart.Series] = []
            var values: [Double] = []
            for (key, color, dashed) in [(base, LineChart.palette[0], false), ("val_" + base, LineChart.palette[1], true)] {
                guard let ys = metrics[key], !ys.isEmpty else { continue }
                series.append(.init(name: key, x: ys.indices.map { Double($0 + 1) }, y: ys, color: color,
                                    dashed: dashed, dots: ys.count <= 40))
                values += ys.filter(\.isFinite)
            }
            let epochs = series.map(\.x.count).max() ?? 1
            // Fitted to the data (the gap between training and validation matters more than
            // the distance to 0 or 1), but never past 0-1 for accuracy-like metrics.
            var yRange: ClosedRange<Double>? = nil
            if unitMetrics.contains(base), let low = values.min(), let high = values.max(), low >= 0, high <= 1 {
                let ticks = Ticks(range: low...high, fixed: false, integer: false)
                yRange = max(0, ticks.low)...min(1, ticks.high)
            }
            return LineChart(title: display(base), xLabel: "epoch", yLabel: base, series: series,
                             xRange: epochs > 1 ? 1...Double(epochs) : nil, yRange: yRange, markers: markers,
                             integerX: true, width: panelWidth, height: panelHeight)
        }
        return SVGFigure(charts: charts, title: title, subtitle: subtitle)
    }

    /// Precision and recall of both classes against the threshold (0-1 on both axes), with a
    /// dotted vertical line and circles at `chosen` (default: the suggested threshold,
    /// ``ThresholdSweep/bestF1``, the middle of the best-F1 plateau, which is shaded and listed
    /// in the legend). Where a precision is undefined (nothing predicted as that class) its
    /// line has a gap rather than a drop to 0. The marker's label goes where it covers no curve
    /// (``MarkerLabelLayout``).
    ///
    /// `chosenLabel` names a given `chosen` threshold (`t = 0.57 (chosen on validation)`);
    /// without it the label is `t = 0.57`, and `suggested t = 0.57` for the default.
    public static func thresholdSweep(_ sweep: ThresholdSweep, chosen: Double? = nil, chosenLabel: String? = nil,
                                      title: String? = nil) -> LineChart {
        let x = sweep.rows.map(\.threshold)
        let negative = LineChart.palette[0], positive = LineChart.palette[3]
        let series: [LineChart.Series] = [
            .init(name: "precision (\(sweep.negativeName))", x: x, y: sweep.rows.map { $0.negativePrecision ?? .nan },
                  color: negative),
            .init(name: "recall (\(sweep.negativeName))", x: x, y: sweep.rows.map(\.negativeRecall), color: negative, dashed: true),
            .init(name: "precision (\(sweep.positiveName))", x: x, y: sweep.rows.map { $0.positivePrecision ?? .nan },
                  color: positive),
            .init(name: "recall (\(sweep.positiveName))", x: x, y: sweep.rows.map(\.positiveRecall), color: positive, dashed: true),
        ]
        let best = sweep.bestF1
        let plateau = sweep.bestF1Plateau
        let low = sweep.rows[plateau.lowerBound].threshold, high = sweep.rows[plateau.upperBound].threshold
        let t = chosen ?? best.threshold
        let row = sweep.row(at: t)
        let label = String(format: chosen == nil ? "suggested t = %.2f" : "t = %.2f", t)
            + (chosen != nil ? chosenLabel.map { " (\($0))" } ?? "" : "")
        var points: [LineChart.Point] = [.init(x: row.threshold, y: row.positiveRecall, color: positive)]
        if let precision = row.positivePrecision {
            points.insert(.init(x: row.threshold, y: precision, color: positive), at: 0)
        }
        let spans = [LineChart.Span(x0: low, x1: high, label: low == high
                                        ? String(format: "best F1 %.3f at t = %.2f only", best.positiveF1, low)
                                        : String(format: "best F1 %.3f for t = %.2f-%.2f", best.positiveF1, low, high))]
        return LineChart(title: title ?? "Precision and recall vs threshold (positive: \(sweep.positiveName))",
                         xLabel: "threshold on p(\(sweep.positiveName))", yLabel: "precision / recall",
                         series: series, xRange: 0...1, yRange: 0...1,
                         markers: [.init(x: t, label: label)], spans: spans, points: points,
                         width: 760, height: 440)
    }

    private static func display(_ base: String) -> String {
        switch base {
        case "loss": return "Loss"
        case "accuracy", "acc": return "Accuracy"
        default: return base.prefix(1).uppercased() + base.dropFirst()
        }
    }
}
