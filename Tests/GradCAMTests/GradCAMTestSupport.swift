import Foundation
import GradCAM
import KerasFiles
import Layers
import Tensor
import TestSupport
import XCTest
import Zoo

/// The reference fixtures' mini transfer models (VGG widths 8,16,16,32,32 at 64x64, head
/// Dense(16) -> Dense(2)), loaded from `NET_transfer.h5`, and their inputs.
enum MiniVGG {
    static func model(_ depth: VGGConfiguration.Depth) throws -> Sequential {
        var rng = SeededGenerator(seed: 1)
        let model = try TransferModel.vgg(
            VGGConfiguration(depth: depth, inputSize: 64, widths: VGGConfiguration.miniWidths),
            head: TransferHead(hiddenUnits: 16, classes: 2), rng: &rng)
        try KerasWeights.load(Fixtures.url("\(depth.rawValue)_transfer.h5"), into: model)
        return model
    }

    /// `x_infer.npy`: 4 images 64x64x3 in [0, 1].
    static func inputs() throws -> Tensor { try Fixtures.tensor("x_infer") }
}

/// Batch slicing and comparison helpers.
enum TestTensors {
    /// Images `range` of an NHWC batch.
    static func slice(_ images: Tensor, _ range: Range<Int>) -> Tensor {
        let perImage = images.count / images.shape[0]
        var dims = images.shape.dims
        dims[0] = range.count
        return Tensor(shape: Shape(dims)) { out in
            images.withUnsafeBufferPointer { src in
                for i in 0..<(range.count * perImage) { out[i] = src[range.lowerBound * perImage + i] }
            }
        }
    }

    /// Largest |a - b| over two value lists of equal length.
    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }
}
