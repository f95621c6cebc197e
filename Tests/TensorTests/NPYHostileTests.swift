import Foundation
import Tensor
import XCTest

/// `NPYFile` on hostile bytes: every malformed prelude, header and data size is an `NPYError`
/// naming the file and the problem, never a crash, a trap or a huge allocation.
final class NPYHostileTests: XCTestCase {
    /// A file of format `version` with `header` (padded by nothing) and `body` bytes.
    func file(_ header: String, body: [UInt8] = [], version: UInt8 = 1, declaredLength: Int? = nil) -> Data {
        let bytes = Array(header.utf8)
        let length = declaredLength ?? bytes.count
        var data = Data([0x93]) + Data("NUMPY".utf8) + Data([version, 0])
        let lengthBytes = version == 1 ? 2 : 4
        data.append(contentsOf: (0..<lengthBytes).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) })
        data.append(contentsOf: bytes)
        data.append(contentsOf: body)
        return data
    }

    func header(descr: String = "'<f4'", fortran: String = "False", shape: String) -> String {
        "{'descr': \(descr), 'fortran_order': \(fortran), 'shape': \(shape), }\n"
    }

    func read(_ data: Data) throws -> Tensor { try NPYFile.read(data, name: "hostile.npy") }

    func assertMalformed(_ data: Data, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        assertRefused(try read(data), nil, matches: { problem in
            guard case .malformedHeader(let detail) = problem else { return false }
            return detail.contains(fragment)
        }, fragment, file: file, line: line)
    }

    func testAWellFormedHandMadeFileReads() throws {
        let t = try read(file(header(shape: "(2,)"), body: [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]))
        XCTAssertEqual(t.scalars, [1, 2])
        let spaced = try read(file("{ \"shape\" : ( 1 , 2 ) ,'fortran_order':False,'descr':'<f4'}   \n\n",
                                   body: [UInt8](repeating: 0, count: 8)))
        XCTAssertEqual(spaced.shape, [1, 2])
    }

    func testPreludes() {
        assertRefused(try read(Data()), .notNPY, "empty")
        assertRefused(try read(Data("NUMPY1234567".utf8)), .notNPY, "no 0x93")
        assertRefused(try read(Data([0x93]) + Data("NUMP".utf8)), .notNPY, "short")
        assertRefused(try read(file(header(shape: "(1,)"), version: 4)), .unsupportedVersion(major: 4, minor: 0))
        assertRefused(try read(file(header(shape: "(1,)"), version: 0)), .unsupportedVersion(major: 0, minor: 0))
        var minor = file(header(shape: "(1,)"))
        minor[7] = 1
        assertRefused(try read(minor), .unsupportedVersion(major: 1, minor: 1))
        assertMalformed(Data([0x93]) + Data("NUMPY".utf8) + Data([2, 0, 5, 0]), "ends inside the header length")
    }

    func testHeaderLengths() {
        let h = header(shape: "(1,)")
        assertRefused(try read(file(h, declaredLength: 4000)), nil, matches: { problem in
            if case .headerLength(4000, _) = problem { return true }
            return false
        }, "beyond the end")
        let long = String(repeating: " ", count: 10_001)
        assertRefused(try read(file(h + long, version: 2)), nil, matches: { problem in
            if case .headerLength(let length, _) = problem { return length > NPYFile.maximumHeaderLength }
            return false
        }, "over NumPy's bound")
        assertRefused(try read(file(h, version: 2, declaredLength: Int(UInt32.max))), nil, matches: { problem in
            if case .headerLength = problem { return true }
            return false
        }, "a 4 GiB header")
        // Declared shorter than the dict: the dict is cut off.
        assertMalformed(file(h, declaredLength: 20), "unterminated string")
    }

    func testMalformedDictionaries() {
        let body = [UInt8](repeating: 0, count: 4)
        assertMalformed(file("", body: body), "expected '{'")
        assertMalformed(file("{'descr': '<f4', 'fortran_order': False}", body: body), "no 'shape'")
        assertMalformed(file("{'shape': (1,), 'fortran_order': False}", body: body), "no 'descr'")
        assertMalformed(file("{'descr': '<f4', 'shape': (1,)}", body: body), "no 'fortran_order'")
        assertMalformed(file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", body: body),
                        "given twice")
        assertMalformed(file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", body: body),
                        "unknown key 'extra'")
        assertMalformed(file("{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", body: body), "expected ',' or '}'")
        assertMalformed(file("{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}", body: body), "expected ':'")
        assertMalformed(file("{'descr': '<f4", body: body), "unterminated string")
        assertMalformed(file("{'descr': '<\\f4', 'fortran_order': False, 'shape': (1,)}", body: body), "escapes")
        assertMalformed(file("{'descr': '<f\u{e9}', 'fortran_order': False, 'shape': (1,)}", body: body), "non-ASCII")
        assertMalformed(file(header(fortran: "false", shape: "(1,)"), body: body), "expected a string, True")
        assertMalformed(file(header(fortran: "Fals", shape: "(1,)"), body: body), "expected False")
        assertMalformed(file(header(fortran: "'False'", shape: "(1,)"), body: body), "'fortran_order' is a string")
        assertMalformed(file(header(descr: "True", shape: "(1,)"), body: body), "'descr' is a boolean")
        assertMalformed(file(header(shape: "'(1,)'"), body: body), "'shape' is a string")
        assertMalformed(file(header(shape: "(1)"), body: body), "is not a tuple")
        assertMalformed(file(header(shape: "(1,,)"), body: body), "expected a dimension")
        assertMalformed(file(header(shape: "(1.0,)"), body: body), "',' or ')'")
        assertMalformed(file(header(shape: "(1, 2"), body: body), "expected a dimension")
        assertMalformed(file(header(shape: "(0x10,)"), body: body), "',' or ')'")
        assertMalformed(file(header(shape: "(99999999999999999999,)"), body: body), "overflows 64 bits")
        assertMalformed(file(header(shape: "(" + String(repeating: "1, ", count: 40) + ")"), body: body),
                        "too many dimensions")
        assertMalformed(file(header(shape: "(1,)") + "junk", body: body), "unexpected text after the dictionary")
        assertMalformed(file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } }", body: body),
                        "unexpected text")
        assertMalformed(file("\u{0}{'descr': '<f4'}", body: body), "expected '{'")
    }

    func testShapesTheLimitsRefuse() {
        assertRefused(try read(file(header(shape: "(-1,)"))), .shape(.negativeDimension(axis: 0, value: -1)))
        assertRefused(try read(file(header(shape: "(" + String(repeating: "1, ", count: 9) + ")"))),
                      .shape(.rank(9, maximum: TensorLimits.maximumRank)))
        assertRefused(try read(file(header(shape: "(4611686018427387904, 4)"))), nil, matches: { problem in
            if case .shape(.elementCountOverflow) = problem { return true }
            return false
        }, "product overflow")
        assertRefused(try read(file(header(shape: "(1073741824, 2)"))), nil, matches: { problem in
            if case .shape(.overBudget) = problem { return true }
            return false
        }, "8 GiB of floats")
        // Int64 elements: the count fits as float32, the byte count of the data does not.
        assertRefused(try read(file(header(descr: "'<i8'", shape: "(1152921504606846975,)"))), nil, matches: { problem in
            if case .shape = problem { return true }
            if case .dataSize = problem { return true }
            return false
        }, "int64 byte overflow")
    }

    func testDataSizeMustMatchTheShapeExactly() {
        let h = header(shape: "(2, 2)")
        assertRefused(try read(file(h, body: [UInt8](repeating: 0, count: 15))), .dataSize(expected: 16, actual: 15))
        assertRefused(try read(file(h, body: [UInt8](repeating: 0, count: 17))), .dataSize(expected: 16, actual: 17))
        assertRefused(try read(file(h)), .dataSize(expected: 16, actual: 0))
        let f8 = header(descr: "'<f8'", shape: "(3,)")
        assertRefused(try read(file(f8, body: [UInt8](repeating: 0, count: 12))), .dataSize(expected: 24, actual: 12))
        XCTAssertNoThrow(try read(file(header(shape: "(0, 5)"))), "no data for an empty array")
    }

    func testDTypesAndOrder() {
        let body = [UInt8](repeating: 0, count: 8)
        assertRefused(try read(file(header(descr: "'>f4'", shape: "(2,)"), body: body)), .unsupportedDType(">f4"))
        assertRefused(try read(file(header(descr: "'O'", shape: "(1,)"), body: body)), .unsupportedDType("O"))
        assertRefused(try read(file(header(descr: "''", shape: "(1,)"), body: body)), .unsupportedDType(""))
        assertRefused(try read(file(header(fortran: "True", shape: "(2,)"), body: body)), .fortranOrder)
        assertRefused(try NPYFile.readInt64(file(header(descr: "'<f8'", shape: "(1,)"), body: body), name: "x.npy"),
                      .notInteger("<f8"))
    }

    func testRandomCorruptionsNeverTrap() throws {
        let good = NPYFile.data(Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]))
        var rng = SeededGenerator(seed: 3)
        for trial in 0..<2000 {
            var bytes = [UInt8](good)
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            if trial % 3 == 0 { bytes.removeLast(Int(rng.next() % UInt64(bytes.count))) }
            do {
                let t = try read(Data(bytes))
                XCTAssertEqual(t.count, t.shape.count)
            } catch {
                XCTAssertTrue(error is NPYError, "\(error)")
            }
        }
    }

    func testErrorsNameTheFile() {
        XCTAssertThrowsError(try NPYFile.read(Data([1, 2, 3]), name: "depth/scene7.npy")) { error in
            XCTAssertEqual("\(error)", "depth/scene7.npy is not a .npy file (no \\x93NUMPY magic)")
        }
    }
}
