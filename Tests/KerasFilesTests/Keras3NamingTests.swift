import Layers
import Tensor
import XCTest
import Zoo
@testable import KerasFiles

/// Keras 3 `.weights.h5` paths of our layers (`Keras3Naming`).
final class Keras3NamingTests: XCTestCase {
    func testKeras3NamingOfOurLayers() {
        XCTAssertEqual(Keras3Naming.snakeCase("MaxPooling2D"), "max_pooling2d")
        XCTAssertEqual(Keras3Naming.snakeCase("Conv2DTranspose"), "conv2d_transpose")
        XCTAssertEqual(Keras3Naming.snakeCase("ReLU"), "re_lu")
        var rng = SeededGenerator(seed: 0)
        let entries = Keras3Naming.entries(of: try! TransferModel.vgg(Mini.configuration(.vgg16), rng: &rng))
        let paths = Dictionary(uniqueKeysWithValues: entries.map { ($0.layer.name, $0.keras3Path) })
        XCTAssertEqual(paths["vgg16"], "layers/functional")
        XCTAssertEqual(paths["block1_conv1"], "layers/functional/layers/conv2d")
        XCTAssertEqual(paths["block5_conv3"], "layers/functional/layers/conv2d_12")
        XCTAssertEqual(paths["block5_pool"], "layers/functional/layers/max_pooling2d_4")
        XCTAssertEqual(paths["dense_1"], "layers/dense_1")
    }
}
