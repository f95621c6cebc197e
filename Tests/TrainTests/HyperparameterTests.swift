import Train
import XCTest

/// Optimizer hyperparameters out of range are thrown errors naming the optimizer and value.
final class HyperparameterTests: XCTestCase {
    func testEveryRangeIsChecked() {
        let cases: [(String, () throws -> any Optimizer)] = [
            ("RMSprop learning rate -0.001 must be a finite number >= 0", { try RMSprop(learningRate: -1e-3) }),
            ("RMSprop learning rate nan must be a finite number >= 0", { try RMSprop(learningRate: .nan) }),
            ("RMSprop rho 1.0 must be in [0, 1)", { try RMSprop(rho: 1) }),
            ("RMSprop momentum -0.5 must be in [0, 1)", { try RMSprop(momentum: -0.5) }),
            ("RMSprop epsilon 0.0 must be a finite number > 0", { try RMSprop(epsilon: 0) }),
            ("SGD learning rate -1.0 must be a finite number >= 0", { try SGD(learningRate: -1) }),
            ("SGD momentum 1.5 must be in [0, 1]", { try SGD(momentum: 1.5) }),
            ("Adam beta1 1.0 must be in [0, 1)", { try Adam(beta1: 1) }),
            ("Adam beta2 -0.1 must be in [0, 1)", { try Adam(beta2: -0.1) }),
            ("Adam epsilon inf must be a finite number > 0", { try Adam(epsilon: .infinity) }),
        ]
        for (message, make) in cases {
            XCTAssertThrowsError(try make(), message) { XCTAssertEqual("\($0)", message) }
        }
        XCTAssertNoThrow(try SGD(momentum: 1))
        XCTAssertNoThrow(try SGD(learningRate: 0), "as PyTorch: a zero rate is allowed (weights stay)")
        XCTAssertNoThrow(try RMSprop(learningRate: 1e-5, momentum: 0.9))
    }
}
