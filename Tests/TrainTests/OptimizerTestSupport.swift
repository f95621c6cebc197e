import Foundation
import Tensor
import Train
import XCTest

/// Gives `parameter` exactly `values` as its gradient, through autograd as training does:
/// d/dw sum(w * c) = c.
func setGradient(_ parameter: Parameter, _ values: [Float], file: StaticString = #filePath, line: UInt = #line) {
    parameter.zeroGradient()
    (parameter.tracked * Tensor(values, shape: parameter.shape)).sum().backward()
    XCTAssertEqual(parameter.gradient?.scalars, values, "gradient was not set", file: file, line: line)
}

/// Runs `optimizer` for one step per gradient (and learning rate, when given) on a fresh
/// parameter starting at `start`; returns the weights after each step.
func runSteps(_ optimizer: any Optimizer, start: [Float], gradients: [[Float]],
         learningRates: [Float]? = nil) -> [[Float]] {
    let parameter = Parameter(name: "w", value: Tensor(start, shape: [start.count]))
    var history: [[Float]] = []
    for (index, gradient) in gradients.enumerated() {
        if let learningRates { optimizer.learningRate = learningRates[index] }
        setGradient(parameter, gradient)
        optimizer.step([parameter])
        history.append(parameter.value.scalars)
    }
    return history
}

/// Asserts elementwise `|actual - expected| <= tolerance`.
func assertClose(_ actual: [Float], _ expected: [Double], tolerance: Double, _ what: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        XCTAssertEqual(Double(a), e, accuracy: tolerance, "\(what) [\(i)]", file: file, line: line)
    }
}

/// Asserts every step of a run against a reference history.
func assertHistory(_ actual: [[Float]], _ expected: [[Double]], tolerance: Double, _ what: String = "",
                   file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(what): steps", file: file, line: line)
    for (step, (a, e)) in zip(actual, expected).enumerated() {
        assertClose(a, e, tolerance: tolerance, "\(what) step \(step + 1)", file: file, line: line)
    }
}

/// The update rules written out in Double arithmetic, straight from the Keras formulas.
enum Reference {
    static func rmsprop(start: [Float], gradients: [[Float]], learningRates: [Double], rho: Double = 0.9,
                        momentum: Double = 0, epsilon: Double = 1e-7, centered: Bool = false,
                        epsilonOutside: Bool = false) -> [[Double]] {
        var w = start.map(Double.init)
        var v = [Double](repeating: 0, count: w.count), m = v, a = v
        var history: [[Double]] = []
        for (step, g32) in gradients.enumerated() {
            let lr = learningRates[step]
            for i in w.indices {
                let g = Double(g32[i])
                v[i] = rho * v[i] + (1 - rho) * g * g
                var denominator = v[i]
                if centered {
                    a[i] = rho * a[i] + (1 - rho) * g
                    denominator -= a[i] * a[i]
                }
                let increment = epsilonOutside ? lr * g / (denominator.squareRoot() + epsilon)
                                               : lr * g / (denominator + epsilon).squareRoot()
                if momentum > 0 {
                    m[i] = momentum * m[i] + increment
                    w[i] -= m[i]
                } else {
                    w[i] -= increment
                }
            }
            history.append(w)
        }
        return history
    }

    static func sgd(start: [Float], gradients: [[Float]], learningRates: [Double], momentum: Double = 0,
                    nesterov: Bool = false) -> [[Double]] {
        var w = start.map(Double.init)
        var m = [Double](repeating: 0, count: w.count)
        var history: [[Double]] = []
        for (step, g32) in gradients.enumerated() {
            let lr = learningRates[step]
            for i in w.indices {
                let g = Double(g32[i])
                m[i] = momentum * m[i] - lr * g
                w[i] += nesterov ? momentum * m[i] - lr * g : m[i]
            }
            history.append(w)
        }
        return history
    }

    static func adam(start: [Float], gradients: [[Float]], learningRates: [Double], beta1: Double = 0.9,
                     beta2: Double = 0.999, epsilon: Double = 1e-7, amsgrad: Bool = false) -> [[Double]] {
        var w = start.map(Double.init)
        var m = [Double](repeating: 0, count: w.count), v = m, vHat = m
        var history: [[Double]] = []
        for (step, g32) in gradients.enumerated() {
            let t = Double(step + 1)
            let alpha = learningRates[step] * (1 - pow(beta2, t)).squareRoot() / (1 - pow(beta1, t))
            for i in w.indices {
                let g = Double(g32[i])
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                vHat[i] = max(vHat[i], v[i])
                w[i] -= alpha * m[i] / ((amsgrad ? vHat[i] : v[i]).squareRoot() + epsilon)
            }
            history.append(w)
        }
        return history
    }
}

/// What `snapshotRoundTrip` saw: the snapshot after two steps, the original's parameters
/// after four, and their copies after `resumed` (restored from the snapshot) took steps 3-4.
struct SnapshotRoundTrip {
    let snapshot: OptimizerSnapshot
    let a: Parameter, b: Parameter
    let copies: [Parameter]
    /// `resumed`'s iteration count, learning rate and scheduled rate right after the restore.
    let iterationsAfterRestore: Int
    let learningRateAfterRestore: Float
    let currentLearningRateAfterRestore: Float
}

/// Two steps of `original` on two parameters, a snapshot, two more steps; then `resumed`
/// (its learning rate set to a wrong value first, which the snapshot overwrites) is restored
/// onto copies of the parameters as they were at the snapshot and takes the same two steps.
func snapshotRoundTrip(_ original: any Optimizer, resumed: any Optimizer) throws -> SnapshotRoundTrip {
    let gradients: [[Float]] = [[0.2, -1.5, 0.03, 1], [0.1, 0.4, -0.02, -1], [-0.3, -0.8, 0.05, 0.5],
                                [0.7, 0.1, -0.04, 0.2]]
    let a = Parameter(name: "a", value: Tensor([0.5, -0.25], shape: [2]))
    let b = Parameter(name: "b", value: Tensor([0.1, 2], shape: [1, 2]))
    func step(_ optimizer: any Optimizer, _ parameters: [Parameter], _ g: [Float]) {
        setGradient(parameters[0], Array(g[0..<2]))
        setGradient(parameters[1], Array(g[2..<4]))
        optimizer.step(parameters)
    }
    step(original, [a, b], gradients[0])
    step(original, [a, b], gradients[1])
    let snapshot = original.snapshot(of: [a, b])
    let copies = [Parameter(name: "a", value: a.value), Parameter(name: "b", value: b.value)]
    step(original, [a, b], gradients[2])
    step(original, [a, b], gradients[3])

    resumed.learningRate = 123  // overwritten by the snapshot
    try resumed.restore(snapshot, for: copies)
    let iterations = resumed.iterations, rate = resumed.learningRate, current = resumed.currentLearningRate
    step(resumed, copies, gradients[2])
    step(resumed, copies, gradients[3])
    return SnapshotRoundTrip(snapshot: snapshot, a: a, b: b, copies: copies, iterationsAfterRestore: iterations,
                             learningRateAfterRestore: rate, currentLearningRateAfterRestore: current)
}
