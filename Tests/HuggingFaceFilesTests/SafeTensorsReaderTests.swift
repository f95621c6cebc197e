import Foundation
import HuggingFaceFiles
import Tensor
import XCTest

final class SafeTensorsReaderTests: XCTestCase {
    /// Every tensor `SegformerForSemanticSegmentation` has for the fixture's configuration,
    /// derived from the configuration as transformers names and shapes them.
    static func expectedShapes(_ config: SegformerConfiguration) -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        var inputChannels = config.numChannels
        let decoder = config.decoderHiddenSize
        for stage in 0..<config.numEncoderBlocks {
            let hidden = config.hiddenSizes[stage], patch = config.patchSizes[stage], sr = config.srRatios[stage]
            let mlp = hidden * config.mlpRatios[stage]
            let embedding = "segformer.encoder.patch_embeddings.\(stage)"
            shapes["\(embedding).proj.weight"] = [hidden, inputChannels, patch, patch]
            for suffix in ["proj.bias", "layer_norm.weight", "layer_norm.bias"] { shapes["\(embedding).\(suffix)"] = [hidden] }
            for block in 0..<config.depths[stage] {
                let prefix = "segformer.encoder.block.\(stage).\(block)"
                for name in ["query", "key", "value"] {
                    shapes["\(prefix).attention.self.\(name).weight"] = [hidden, hidden]
                    shapes["\(prefix).attention.self.\(name).bias"] = [hidden]
                }
                if sr > 1 {
                    shapes["\(prefix).attention.self.sr.weight"] = [hidden, hidden, sr, sr]
                    for suffix in ["sr.bias", "layer_norm.weight", "layer_norm.bias"] { shapes["\(prefix).attention.self.\(suffix)"] = [hidden] }
                }
                shapes["\(prefix).attention.output.dense.weight"] = [hidden, hidden]
                shapes["\(prefix).attention.output.dense.bias"] = [hidden]
                for norm in ["layer_norm_1", "layer_norm_2"] {
                    shapes["\(prefix).\(norm).weight"] = [hidden]
                    shapes["\(prefix).\(norm).bias"] = [hidden]
                }
                shapes["\(prefix).mlp.dense1.weight"] = [mlp, hidden]
                shapes["\(prefix).mlp.dense1.bias"] = [mlp]
                shapes["\(prefix).mlp.dwconv.dwconv.weight"] = [mlp, 1, 3, 3]
                shapes["\(prefix).mlp.dwconv.dwconv.bias"] = [mlp]
                shapes["\(prefix).mlp.dense2.weight"] = [hidden, mlp]
                shapes["\(prefix).mlp.dense2.bias"] = [hidden]
            }
            shapes["segformer.encoder.layer_norm.\(stage).weight"] = [hidden]
            shapes["segformer.encoder.layer_norm.\(stage).bias"] = [hidden]
            shapes["decode_head.linear_c.\(stage).proj.weight"] = [decoder, hidden]
            shapes["decode_head.linear_c.\(stage).proj.bias"] = [decoder]
            inputChannels = hidden
        }
        shapes["decode_head.linear_fuse.weight"] = [decoder, decoder * config.numEncoderBlocks, 1, 1]
        for suffix in ["weight", "bias", "running_mean", "running_var"] { shapes["decode_head.batch_norm.\(suffix)"] = [decoder] }
        shapes["decode_head.batch_norm.num_batches_tracked"] = []
        shapes["decode_head.classifier.weight"] = [config.numLabels, decoder, 1, 1]
        shapes["decode_head.classifier.bias"] = [config.numLabels]
        return shapes
    }

    func testFixtureListsEveryTensorWithItsShape() throws {
        let file = try SafeTensorsFile(contentsOf: SegformerFixture.weights)
        let config = try SegformerConfiguration.load(folder: SegformerFixture.folder)
        let expected = Self.expectedShapes(config)
        XCTAssertEqual(file.names.count, 146)
        XCTAssertEqual(Set(file.names), Set(expected.keys))
        for entry in file.entries {
            XCTAssertEqual(entry.shape, expected[entry.name], entry.name)
            XCTAssertEqual(entry.dtype, entry.name.hasSuffix("num_batches_tracked") ? .int64 : .float32, entry.name)
        }
        XCTAssertEqual(try file.shape(of: "segformer.encoder.block.0.0.attention.self.sr.weight"), [16, 16, 8, 8])
        XCTAssertEqual(try file.dtype(of: "decode_head.batch_norm.num_batches_tracked"), .int64)
        XCTAssertEqual(try file.shape(of: "decode_head.batch_norm.num_batches_tracked"), [])
        XCTAssertEqual(file.metadata, ["format": "pt"])
        // 203083 parameters (manifest.json) plus the BatchNorm buffers (32 + 32 + 1).
        XCTAssertEqual(file.entries.reduce(0) { $0 + $1.elementCount }, 203_083 + 65)
        // The entries come in the order of their bytes, which tile the data buffer.
        XCTAssertEqual(file.entries.first?.dataOffsets, 0..<8)
        for (before, after) in zip(file.entries, file.entries.dropFirst()) {
            XCTAssertEqual(before.dataOffsets.upperBound, after.dataOffsets.lowerBound)
        }
        XCTAssertEqual(file.header.dataStart + (file.entries.last?.dataOffsets.upperBound ?? 0), 828_908)
    }

    func testValuesMatchNumPy() throws {
        let file = try SafeTensorsFile(folder: SegformerFixture.folder)
        let sr = try file.floatTensor("segformer.encoder.block.0.0.attention.self.sr.weight")
        XCTAssertEqual(sr.shape, [16, 16, 8, 8])
        // numpy: w[0,0,0,0], w[3,5,2,7], w[15,15,7,7] and the float64 sum of all 16384 values.
        XCTAssertEqual(sr[flat: 0], 0.05005023)
        XCTAssertEqual(sr[flat: ((3 * 16 + 5) * 8 + 2) * 8 + 7], -0.008026622)
        XCTAssertEqual(sr[flat: 16 * 16 * 8 * 8 - 1], 0.015259967)
        XCTAssertEqual(sr.scalars.reduce(0.0) { $0 + Double($1) }, 5.280128265105532, accuracy: 1e-9)

        let classifier = try file.floatTensor("decode_head.classifier.weight", expectedShape: [3, 32, 1, 1])
        XCTAssertEqual(classifier[flat: 0], -0.058353323)
        XCTAssertEqual(classifier[flat: 95], 0.39200017)
        XCTAssertEqual(try file.floatTensor("decode_head.classifier.bias").scalars, [-0.06722191, -0.04033574, 0.08636834])
        let variance = try file.floatTensor("decode_head.batch_norm.running_var")
        XCTAssertEqual(variance[flat: 0], 1.0182276)
        XCTAssertEqual(variance[flat: 31], 0.8669446)
        XCTAssertEqual(try file.int64Values("decode_head.batch_norm.num_batches_tracked"), [0])
    }

    func testWrongKindAndMissingTensorsAreNamed() throws {
        let file = try SafeTensorsFile(contentsOf: SegformerFixture.weights)
        let path = SegformerFixture.weights.path
        XCTAssertEqual(huggingFaceError { _ = try file.floatTensor("decoder.nothing") },
                       .missingTensor(name: "decoder.nothing", file: path))
        guard case let .wrongDType(name, _, _, got)? = huggingFaceError({
            _ = try file.floatTensor("decode_head.batch_norm.num_batches_tracked")
        }) else { return XCTFail("expected wrongDType") }
        XCTAssertEqual(name, "decode_head.batch_norm.num_batches_tracked")
        XCTAssertEqual(got, "I64")
        guard case .wrongDType? = huggingFaceError({ _ = try file.int64Values("decode_head.classifier.bias") }) else {
            return XCTFail("expected wrongDType")
        }
        let mismatch = huggingFaceError { try file.checkShape("decode_head.classifier.weight", expected: [3, 32]) }
        XCTAssertEqual(mismatch, .shapeMismatch(name: "decode_head.classifier.weight", file: path,
                                                expected: [3, 32], got: [3, 32, 1, 1]))
        XCTAssertTrue(mismatch?.description.contains("decode_head.classifier.weight") ?? false)
        XCTAssertTrue(mismatch?.description.contains("[3, 32, 1, 1], expected [3, 32]") ?? false)
        XCTAssertEqual(huggingFaceError { _ = try file.floatTensor("decode_head.classifier.bias", expectedShape: [4]) },
                       .shapeMismatch(name: "decode_head.classifier.bias", file: path, expected: [4], got: [3]))
        XCTAssertThrowsError(try HuggingFaceError.check(shape: [2], expected: [3], name: "t", file: "f")) {
            XCTAssertEqual($0 as? HuggingFaceError, .shapeMismatch(name: "t", file: "f", expected: [3], got: [2]))
        }
    }

    func testEveryDTypeReads() throws {
        // Little-endian bytes of each dtype, with the values they hold.
        let f16: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0xFF, 0x7B]   // 1, -2, 2^-24, 65504
        let bf16: [UInt8] = [0x80, 0x3F, 0x40, 0xC0]                            // 1, -3
        var f64: [UInt8] = []
        for value in [0.1, -1e-3] { withUnsafeBytes(of: value.bitPattern.littleEndian) { f64 += $0 } }
        let i16: [UInt8] = [0xFF, 0xFF, 0x00, 0x80]                             // -1, -32768
        let i32: [UInt8] = [0x01, 0x00, 0x00, 0x80]                             // Int32.min + 1
        let i8: [UInt8] = [0xFE]                                                // -2
        let u8: [UInt8] = [0xFE]                                                // 254
        let bool: [UInt8] = [0x01, 0x00]
        let parts: [(String, String, [Int], [UInt8])] = [
            ("a", "F16", [2, 2], f16), ("b", "BF16", [2], bf16), ("c", "F64", [2], f64), ("d", "I16", [2], i16),
            ("e", "I32", [], i32), ("f", "I8", [1], i8), ("g", "U8", [1], u8), ("h", "BOOL", [2], bool),
            ("z", "F32", [0, 3], []),
        ]
        var header = "{", data: [UInt8] = []
        for (name, dtype, shape, bytes) in parts {
            let shapeText = shape.map(String.init).joined(separator: ",")
            header += (header == "{" ? "" : ",")
                + "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shapeText)],\"data_offsets\":[\(data.count),\(data.count + bytes.count)]}"
            data += bytes
        }
        header += "}"
        let file = try SafeTensorsFile(data: safetensorsBytes(header: header, data: data), path: "dtypes.safetensors")
        let a = try file.floatTensor("a")
        XCTAssertEqual(a.shape, [2, 2])
        XCTAssertEqual(a.scalars, [1, -2, 0x1p-24, 65504])
        XCTAssertEqual(try file.floatTensor("b").scalars, [1, -3])
        XCTAssertEqual(try file.floatTensor("c").scalars, [Float(0.1), Float(-1e-3)])
        XCTAssertEqual(try file.int64Values("d"), [-1, -32768])
        XCTAssertEqual(try file.int64Values("e"), [Int64(Int32.min) + 1])
        XCTAssertEqual(try file.int64Values("f"), [-2])
        XCTAssertEqual(try file.int64Values("g"), [254])
        XCTAssertEqual(try file.int64Values("h"), [1, 0])
        let empty = try file.floatTensor("z")
        XCTAssertEqual(empty.shape, [0, 3])
        XCTAssertEqual(empty.count, 0)
        XCTAssertEqual(file.metadata, [:])
    }

    func testUnsignedIntegersWiden() throws {
        var data: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]                // U16 65535, U32 4294967295
        for value in [UInt64(5), UInt64(Int64.max), UInt64.max] { withUnsafeBytes(of: value.littleEndian) { data += $0 } }
        let header = "{\"s\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[0,2]},"
            + "\"i\":{\"dtype\":\"U32\",\"shape\":[1],\"data_offsets\":[2,6]},"
            + "\"l\":{\"dtype\":\"U64\",\"shape\":[2],\"data_offsets\":[6,22]},"
            + "\"m\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[22,30]}}"
        let file = try SafeTensorsFile(data: safetensorsBytes(header: header, data: data), path: "u.safetensors")
        XCTAssertEqual(try file.int64Values("s"), [65535])
        XCTAssertEqual(try file.int64Values("i"), [4_294_967_295])
        XCTAssertEqual(try file.int64Values("l"), [5, .max])
        XCTAssertEqual(huggingFaceError { _ = try file.int64Values("m") },
                       .wrongDType(name: "m", file: "u.safetensors", expected: "values that fit in I64",
                                   got: "U64 holding 18446744073709551615 at index 0"))
    }

    func testNonFiniteValuesAreRefused() throws {
        let header = "{\"x\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
            + "\"y\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[6,14]}}"
        var data: [UInt8] = [0x00, 0x3C, 0x00, 0x7C, 0x00, 0x7E]               // 1, +inf, NaN
        withUnsafeBytes(of: (1e300).bitPattern.littleEndian) { data += $0 }     // too large for Float32
        let file = try SafeTensorsFile(data: safetensorsBytes(header: header, data: data), path: "bad.safetensors")
        XCTAssertEqual(huggingFaceError { _ = try file.floatTensor("x") },
                       .nonFiniteValue(name: "x", file: "bad.safetensors", index: 1, value: "inf"))
        XCTAssertEqual(huggingFaceError { _ = try file.floatTensor("y") },
                       .nonFiniteValue(name: "y", file: "bad.safetensors", index: 0, value: "inf"))
    }

    func testMissingFileAndFolder() throws {
        let folder = try temporaryFolder(self)
        let missing = folder.appendingPathComponent("model.safetensors")
        XCTAssertEqual(huggingFaceError { _ = try SafeTensorsFile(contentsOf: missing) }, .missingFile(file: missing.path))
        XCTAssertEqual(huggingFaceError { _ = try SafeTensorsFile(contentsOf: folder) },
                       .unreadableFile(file: folder.path, reason: "it is a folder"))
    }
}
