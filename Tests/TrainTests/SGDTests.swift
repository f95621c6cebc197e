import Tensor
import Train
import XCTest

/// SGD, with momentum and Nesterov momentum, against Keras 3's update rules.
final class SGDTests: XCTestCase {
    let start: [Float] = [0.5, -0.25, 0.1]
    let gradients: [[Float]] = [[0.2, -1.5, 0.03], [0.1, 0.4, -0.02], [-0.3, -0.8, 0.05]]

    func testPlainStepsMatchReference() throws {
        let optimizer = try SGD(learningRate: 0.1)
        XCTAssertEqual(optimizer.slotNames, [])
        let history = runSteps(optimizer, start: start, gradients: gradients)
        assertHistory(history, Reference.sgd(start: start, gradients: gradients, learningRates: [0.1, 0.1, 0.1]),
                      tolerance: 1e-6)
        // Step 1 by hand: 0.5 - 0.1 * 0.2 = 0.48, -0.25 + 0.15 = -0.1, 0.1 - 0.003 = 0.097.
        assertClose(history[0], [0.48, -0.1, 0.097], tolerance: 1e-7)
    }

    /// w = 1, g = 0.5, lr 0.1, momentum 0.9 by hand:
    /// m = -0.05, -0.095, -0.1355; w = 0.95, 0.855, 0.7195.
    func testMomentumByHand() throws {
        let history = runSteps(try SGD(learningRate: 0.1, momentum: 0.9), start: [1], gradients: [[0.5], [0.5], [0.5]])
        assertClose(history.map { $0[0] }, [0.95, 0.855, 0.7195], tolerance: 1e-6)
    }

    /// Nesterov uses the new momentum: w += 0.9 * m - lr * g.
    /// m = -0.05, -0.095, -0.1355; w = 0.905, 0.7695, 0.59755.
    func testNesterovByHand() throws {
        let history = runSteps(try SGD(learningRate: 0.1, momentum: 0.9, nesterov: true), start: [1],
                          gradients: [[0.5], [0.5], [0.5]])
        assertClose(history.map { $0[0] }, [0.905, 0.7695, 0.59755], tolerance: 1e-6)
    }

    func testMomentumAndNesterovMatchReference() throws {
        let lrs: [Float] = [0.05, 0.05, 0.05]
        let momentum = runSteps(try SGD(learningRate: 0.05, momentum: 0.8), start: start, gradients: gradients)
        assertHistory(momentum, Reference.sgd(start: start, gradients: gradients, learningRates: lrs.map(Double.init),
                                              momentum: 0.8), tolerance: 1e-6)
        let nesterov = runSteps(try SGD(learningRate: 0.05, momentum: 0.8, nesterov: true), start: start, gradients: gradients)
        assertHistory(nesterov, Reference.sgd(start: start, gradients: gradients, learningRates: lrs.map(Double.init),
                                              momentum: 0.8, nesterov: true), tolerance: 1e-6)
        XCTAssertGreaterThan(abs(momentum[2][1] - nesterov[2][1]), 1e-3, "Nesterov should differ from momentum")
    }

    func testMomentumState() throws {
        let optimizer = try SGD(learningRate: 0.1, momentum: 0.9)
        XCTAssertEqual(optimizer.slotNames, ["momentum"])
        let parameter = Parameter(name: "w", value: Tensor([1], shape: [1]))
        for _ in 0..<2 {
            setGradient(parameter, [0.5])
            optimizer.step([parameter])
        }
        let moment = try XCTUnwrap(optimizer.state(of: parameter)["momentum"])
        XCTAssertEqual(moment.scalars[0], -0.095, accuracy: 1e-7)
    }
}
