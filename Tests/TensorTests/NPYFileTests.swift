import Foundation
import Tensor
import TestSupport
import XCTest

/// `NPYFile`: files written by NumPy (Tests/Fixtures/npy, `make_npy_fixtures.py`) read with
/// their values, the writer round-trips bit-exactly and matches `numpy.save` byte for byte.
final class NPYFileTests: XCTestCase {
    func fixture(_ name: String) -> URL { Fixtures.url("npy/\(name).npy") }

    func testReadsEveryDTypeNumPyWrites() throws {
        let f4 = try NPYFile.read(fixture("f4_2x3"))
        XCTAssertEqual(f4.shape, [2, 3])
        XCTAssertEqual(f4.scalars, [-1, -0.5, 0, 0.5, 1, 1.5])
        let f8 = try NPYFile.read(fixture("f8_3"))
        XCTAssertEqual(f8.shape, [3])
        XCTAssertEqual(f8.scalars, [1.5, -2.25, Float(1e-3)])
        XCTAssertEqual(try NPYFile.read(fixture("i8_2x2")).scalars, [0, 1, 2, 255])
        XCTAssertEqual(try NPYFile.read(fixture("i4_4")).scalars, [-7, 0, 3, Float(Int32.max)])
        let u1 = try NPYFile.read(fixture("u1_2x2x2"))
        XCTAssertEqual(u1.shape, [2, 2, 2])
        XCTAssertEqual(u1.scalars, [0, 30, 60, 90, 120, 150, 180, 210])
        XCTAssertEqual(try NPYFile.read(fixture("b1_3")).scalars, [1, 0, 1])
        let scalar = try NPYFile.read(fixture("f4_scalar"))
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.scalars, [3.25])
        let empty = try NPYFile.read(fixture("f4_0x3"))
        XCTAssertEqual(empty.shape, [0, 3])
        XCTAssertEqual(empty.count, 0)
    }

    func testReadsFormatVersionsTwoAndThree() throws {
        XCTAssertEqual(try NPYFile.read(fixture("f4_v2")).scalars, [1, 2, 3])
        let v3 = try NPYFile.read(fixture("f4_v3"))
        XCTAssertEqual(v3.shape, [2, 1])
        XCTAssertEqual(v3.scalars, [4, 5])
    }

    func testReadsIntegersExactly() throws {
        let labels = try NPYFile.readInt64(fixture("i8_2x2"))
        XCTAssertEqual(labels.shape, [2, 2])
        XCTAssertEqual(labels.values, [0, 1, 2, 255])
        XCTAssertEqual(try NPYFile.readInt64(fixture("i4_4")).values, [-7, 0, 3, Int64(Int32.max)])
        XCTAssertEqual(try NPYFile.readInt64(fixture("u1_2x2x2")).values, [0, 30, 60, 90, 120, 150, 180, 210])
        XCTAssertEqual(try NPYFile.readInt64(fixture("b1_3")).values, [1, 0, 1])
        assertRefused(try NPYFile.readInt64(fixture("f4_2x3")), .notInteger("<f4"))
    }

    func testRefusesWhatItDoesNotRead() {
        assertRefused(try NPYFile.read(fixture("f4_fortran_2x3")), .fortranOrder)
        assertRefused(try NPYFile.read(fixture("f4_bigendian")), .unsupportedDType(">f4"))
        assertRefused(try NPYFile.read(fixture("f2")), .unsupportedDType("<f2"))
        assertRefused(try NPYFile.read(fixture("structured")), nil) { problem in
            guard case .malformedHeader(let detail) = problem else { return false }
            return detail.contains("structured dtype")
        }
        let missing = fixture("no_such_file")
        XCTAssertThrowsError(try NPYFile.read(missing)) { error in
            guard let error = error as? NPYError, case .unreadable = error.problem else { return XCTFail("\(error)") }
            XCTAssertEqual(error.file, missing.path)
        }
    }

    func testEveryCheckedInFixtureReads() throws {
        let root = Fixtures.directory
        let refused = ["f4_fortran_2x3", "f4_bigendian", "f2", "structured"]
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            return XCTFail("cannot list \(root.path)")
        }
        var count = 0
        for case let url as URL in walker where url.pathExtension == "npy" {
            if refused.contains(url.deletingPathExtension().lastPathComponent) { continue }
            XCTAssertNoThrow(try NPYFile.read(url), url.path)
            count += 1
        }
        XCTAssertGreaterThan(count, 90, "the fixtures' .npy files were found")
    }

    func testWriterMatchesNumPyByteForByte() throws {
        let written = NPYFile.data(Tensor([-1, -0.5, 0, 0.5, 1, 1.5], shape: [2, 3]))
        XCTAssertEqual(written, try Data(contentsOf: fixture("f4_2x3")))
    }

    func testWriterHeaderLayout() throws {
        let data = NPYFile.data(Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]))
        XCTAssertEqual(Array(data.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0, "data starts 64-byte aligned")
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header)
        XCTAssertTrue(header.hasSuffix("\n"))
        XCTAssertEqual(data.count, 10 + headerLength + 6 * 4)
        XCTAssertEqual(Array(data.suffix(4)), [0, 0, 0xC0, 0x40], "6.0 little-endian")
        let oneD = NPYFile.data(Tensor([1, 2], shape: [2]))
        XCTAssertTrue(String(decoding: oneD, as: UTF8.self).contains("'shape': (2,), }"))
    }

    func testRoundTripIsBitExact() throws {
        var rng = SeededGenerator(seed: 11)
        let special: [Float] = [0, -0.0, 1, -1, .infinity, -.infinity, .nan, .leastNonzeroMagnitude,
                                .greatestFiniteMagnitude, 1e-30, 3.14159274]
        let cases: [(values: [Float], shape: Shape)] = [
            (special + [0], [3, 4]),
            ((0..<64).map { _ in rng.nextNormal() }, [4, 4, 4]),
            ((0..<7).map { Float($0) }, [7]),
            ([42], []),
            ([], [0, 3]),
            ((0..<(9 * 9)).map { _ in rng.nextUnit() }, [1, 9, 9]),
            ([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 1, 1, 1, 1, 2, 4]),
        ]
        for (i, c) in cases.enumerated() {
            let back = try NPYFile.read(NPYFile.data(Tensor(c.values, shape: c.shape)), name: "case \(i)")
            XCTAssertEqual(back.shape, c.shape, "case \(i) shape")
            XCTAssertEqual(back.scalars.map(\.bitPattern), c.values.map(\.bitPattern), "case \(i) values")
        }
    }

    func testTheTestSupportReaderIsTheSameReader() throws {
        XCTAssertEqual(try NPY.read(fixture("f4_2x3")).scalars, try NPYFile.read(fixture("f4_2x3")).scalars)
        XCTAssertThrowsError(try NPY.read(fixture("f4_fortran_2x3"))) { XCTAssertTrue($0 is NPYError) }
    }
}

/// Asserts `body` throws an `NPYError` with `problem` (or one `matches` accepts).
func assertRefused<T>(_ body: @autoclosure () throws -> T, _ problem: NPYError.Problem?,
                      matches: ((NPYError.Problem) -> Bool)? = nil, _ what: String = "",
                      file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), what, file: file, line: line) { error in
        guard let error = error as? NPYError else {
            return XCTFail("\(what): not an NPYError: \(error)", file: file, line: line)
        }
        if let problem {
            XCTAssertEqual(error.problem, problem, "\(what): \(error)", file: file, line: line)
        }
        if let matches {
            XCTAssertTrue(matches(error.problem), "\(what): \(error)", file: file, line: line)
        }
        XCTAssertFalse(error.file.isEmpty, file: file, line: line)
        XCTAssertTrue(error.description.hasPrefix(error.file), file: file, line: line)
    }
}
