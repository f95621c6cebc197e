import Foundation
import Tensor
import TestSupport
import XCTest
import Zoo
@testable import KerasFiles

/// The low-level HDF5 wrapper: attributes of every kind Keras uses, datasets, errors.
final class HDF5WrapperTests: XCTestCase {
    func testAttributesAndDatasetsRoundTrip() throws {
        let directory = try temporaryDirectory(self)
        let path = directory.appendingPathComponent("t.h5").path
        let file = try HDF5File.create(path)
        let root = try file.root
        try root.setStrings("names", ["a", "block1_conv1", "ünïcode"], utf8: true)
        try root.setStrings("empty", [])
        try root.setString("version", "2.21.0")
        try root.setIntegers("size", [150, 150, 3])
        let group = try root.createGroup("x/y")
        let tensor = Tensor((0..<24).map { Float($0) * 0.5 }, shape: [2, 3, 4])
        try group.writeDataset("w/kernel:0", tensor)
        try file.close()

        let reopened = try HDF5File.open(path).root
        XCTAssertEqual(try reopened.strings("names"), ["a", "block1_conv1", "ünïcode"])
        XCTAssertEqual(try reopened.strings("empty"), [])
        XCTAssertEqual(try reopened.string("version"), "2.21.0")
        XCTAssertEqual(try reopened.integers("size"), [150, 150, 3])
        XCTAssertNil(try reopened.strings("absent"))
        XCTAssertEqual(try reopened.attributeNames().sorted(), ["empty", "names", "size", "version"])
        XCTAssertEqual(try reopened.kind(of: "x/y/w/kernel:0"), .dataset)
        XCTAssertEqual(try reopened.kind(of: "x/y"), .group)
        XCTAssertNil(try reopened.kind(of: "x/nothing/deeper"))
        XCTAssertFalse(reopened.exists("nothing/at/all"))
        let dataset = try reopened.dataset("x/y/w/kernel:0")
        XCTAssertEqual(try dataset.shape, [2, 3, 4])
        XCTAssertEqual(try dataset.read(shape: [2, 3, 4]).scalars, tensor.scalars)
        XCTAssertEqual(try reopened.group("x").children(), ["y"])
    }

    func testFixedLengthStringsAsInTheKeras1File() throws {
        let file = try HDF5File.open(Fixtures.url("vgg16_base_keras1_names.h5").path)
        let names = try XCTUnwrap(try file.root.stringList("layer_names"))
        XCTAssertEqual(names.count, 18)
        XCTAssertEqual(names.first, "block1_conv1")
        XCTAssertEqual(try file.root.group("block5_conv3").strings("weight_names"),
                       ["block5_conv3_W_1:0", "block5_conv3_b_1:0"])
    }

    func testFailuresBecomeErrorsWithHDF5sReason() throws {
        let file = try HDF5File.open(Fixtures.url("vgg16_base.h5").path)
        XCTAssertThrowsError(try file.root.dataset("no/such/dataset")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("no/such/dataset"), message)
        }
        XCTAssertThrowsError(try HDF5File.open("/nonexistent/file.h5"))
    }
}
