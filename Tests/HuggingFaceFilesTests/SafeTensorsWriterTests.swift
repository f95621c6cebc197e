import Foundation
import HuggingFaceFiles
import Tensor
import XCTest

final class SafeTensorsWriterTests: XCTestCase {
    /// Every tensor of the fixture read (floats as Tensors, the I64 as values) and written again:
    /// the data buffer is byte for byte PyTorch's, the header the same JSON value.
    func testFixtureRoundTripKeepsTheDataAndTheHeader() throws {
        let original = try SafeTensorsFile(contentsOf: SegformerFixture.weights)
        var writer = SafeTensorsWriter()
        // Added in reverse order: the writer orders them as the safetensors library does.
        for entry in original.entries.reversed() {
            switch entry.dtype {
            case .float32: writer.add(entry.name, try original.floatTensor(entry.name))
            case .int64: writer.add(entry.name, int64: try original.int64Values(entry.name), shape: entry.shape)
            default: XCTFail("unexpected dtype \(entry.dtype) for \(entry.name)")
            }
        }
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("model.safetensors")
        try writer.write(to: url)

        let reread = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(reread.names, original.names)
        XCTAssertEqual(reread.metadata, ["format": "pt"])
        for entry in original.entries {
            XCTAssertEqual(try reread.entry(entry.name), entry, entry.name)
            XCTAssertEqual(try reread.bytes(of: entry.name), try original.bytes(of: entry.name), entry.name)
        }
        // The data is what PyTorch's save_pretrained wrote, the header says the same (its keys
        // are sorted here, where the library puts __metadata__ first and the tensors in data order).
        let fixture = try safetensorsParts(try Data(contentsOf: SegformerFixture.weights))
        let written = try safetensorsParts(try Data(contentsOf: url))
        XCTAssertEqual(written.buffer, fixture.buffer)
        XCTAssertEqual(written.header, fixture.header)
        XCTAssertEqual(try writer.serialized(), try Data(contentsOf: url))
        // Nothing but the file is left in the folder (the temporary file was renamed).
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["model.safetensors"])
    }

    func testRawCopyOfEveryTensorKeepsTheDataAndTheHeader() throws {
        let original = try SafeTensorsFile(contentsOf: SegformerFixture.weights)
        var writer = SafeTensorsWriter(metadata: original.metadata)
        for entry in original.entries {
            writer.add(entry.name, dtype: entry.dtype, shape: entry.shape, bytes: try original.bytes(of: entry.name))
        }
        let fixture = try safetensorsParts(try Data(contentsOf: SegformerFixture.weights))
        let written = try safetensorsParts(try writer.serialized())
        XCTAssertEqual(written.buffer, fixture.buffer)
        XCTAssertEqual(written.header, fixture.header)
    }

    func testHeaderLayoutAndOrder() throws {
        var writer = SafeTensorsWriter()
        writer.add("b", Tensor([1, 2], shape: [2]))
        writer.add("a", Tensor([3], shape: []))
        writer.add("count", int64: [7], shape: [])
        writer.add("half", dtype: .float16, shape: [1], bytes: Data([0x00, 0x3C]))
        let data = try writer.serialized()
        let length = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        XCTAssertEqual(length % 8, 0)
        let header = String(decoding: data[8..<(8 + length)], as: UTF8.self)
        // The library's layout: I64 first (8-byte alignment), then by name.
        let expected = #"{"__metadata__":{"format":"pt"},"count":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"#
            + #""a":{"dtype":"F32","shape":[],"data_offsets":[8,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},"#
            + #""half":{"dtype":"F16","shape":[1],"data_offsets":[20,22]}}"#
        XCTAssertEqual(try safetensorsParts(data).header, try JSONValue(parsing: Data(expected.utf8)))
        // Compact JSON (the same characters as the library's, in another key order), then spaces.
        let json = header.trimmingCharacters(in: .whitespaces)
        XCTAssertEqual(json.utf8.count, expected.utf8.count)
        XCTAssertTrue(header.hasPrefix(json))
        XCTAssertFalse(json.contains(" ") || json.contains("\n"))
        XCTAssertEqual(header.count - json.count, (8 - json.utf8.count % 8) % 8)
        XCTAssertEqual(data.count, 8 + length + 22)

        let file = try SafeTensorsFile(data: data, path: "layout")
        XCTAssertEqual(file.names, ["count", "a", "b", "half"])
        XCTAssertEqual(try file.floatTensor("a").scalars, [3])
        XCTAssertEqual(try file.floatTensor("a").shape, [])
        XCTAssertEqual(try file.floatTensor("b").scalars, [1, 2])
        XCTAssertEqual(try file.floatTensor("half").scalars, [1])
        XCTAssertEqual(try file.int64Values("count"), [7])
    }

    func testEmptyAndMetadataFreeFilesMatchTheLibrary() throws {
        // The safetensors library's own test vectors (test_empty).
        XCTAssertEqual(Array(try SafeTensorsWriter(metadata: nil).serialized()),
                       [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32])
        let framework = try SafeTensorsWriter(metadata: ["framework": "pt"]).serialized()
        XCTAssertEqual(framework.prefix(8), Data([40, 0, 0, 0, 0, 0, 0, 0]))
        XCTAssertEqual(String(decoding: framework.dropFirst(8), as: UTF8.self), #"{"__metadata__":{"framework":"pt"}}     "#)
        // test_serialization: one F32 [1, 2, 3] tensor named attn.0.
        var writer = SafeTensorsWriter(metadata: nil)
        writer.add("attn.0", Tensor([0, 1, 2, 3, 4, 5], shape: [1, 2, 3]))
        let bytes = try writer.serialized()
        XCTAssertEqual(bytes.prefix(8), Data([64, 0, 0, 0, 0, 0, 0, 0]))
        XCTAssertEqual(try JSONValue(parsing: bytes[8..<72]),
                       try JSONValue(parsing: Data(#"{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}"#.utf8)))
        XCTAssertEqual(Array(bytes[72...]), [0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64])
    }

    func testNamesNeedingEscapesRoundTrip() throws {
        var writer = SafeTensorsWriter(metadata: ["note": "line\nbreak \"quoted\" é"])
        let names = ["tab\tname", "quote\"name", "back\\slash", "ünïcödé.weight", "\u{1}control", ""]
        for (index, name) in names.enumerated() { writer.add(name, Tensor([Float(index)], shape: [1])) }
        let file = try SafeTensorsFile(data: try writer.serialized(), path: "escapes")
        XCTAssertEqual(Set(file.names), Set(names))
        for (index, name) in names.enumerated() { XCTAssertEqual(try file.floatTensor(name).scalars, [Float(index)]) }
        XCTAssertEqual(file.metadata, ["note": "line\nbreak \"quoted\" é"])
    }

    func testInvalidInputIsRefusedAndNothingIsWritten() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("out.safetensors")
        func refused(_ writer: SafeTensorsWriter) -> HuggingFaceError? {
            let error = huggingFaceError { try writer.write(to: url) }
            XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
            return error
        }
        var twice = SafeTensorsWriter()
        twice.add("w", Tensor([1], shape: [1]))
        twice.add("w", int64: [1], shape: [1])
        XCTAssertEqual(refused(twice), .invalidTensor(name: "w", file: url.path, reason: "the name is given twice"))

        var reserved = SafeTensorsWriter()
        reserved.add("__metadata__", Tensor([1], shape: [1]))
        guard case .invalidTensor(name: "__metadata__", _, _)? = refused(reserved) else { return XCTFail("expected invalidTensor") }

        var count = SafeTensorsWriter()
        count.add("n", int64: [1, 2], shape: [3])
        guard case .invalidTensor(name: "n", _, _)? = refused(count) else { return XCTFail("expected invalidTensor") }

        var negative = SafeTensorsWriter()
        negative.add("n", int64: [], shape: [-1])
        guard case .invalidTensor(name: "n", _, _)? = refused(negative) else { return XCTFail("expected invalidTensor") }

        var raw = SafeTensorsWriter()
        raw.add("r", dtype: .float16, shape: [2], bytes: Data([0, 0, 0]))
        guard case .invalidTensor(name: "r", _, _)? = refused(raw) else { return XCTFail("expected invalidTensor") }

        var nan = SafeTensorsWriter()
        nan.add("x", Tensor([1, .nan], shape: [2]))
        XCTAssertEqual(refused(nan), .nonFiniteValue(name: "x", file: url.path, index: 1, value: "nan"))

        let missingFolder = folder.appendingPathComponent("absent/out.safetensors")
        guard case .writeFailed(file: missingFolder.path, _)? = huggingFaceError({
            try SafeTensorsWriter.write([("w", Tensor([1], shape: [1]))], to: missingFolder)
        }) else { return XCTFail("expected writeFailed") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    func testStaticWriteWithInt64() throws {
        let url = try temporaryFolder(self).appendingPathComponent("w.safetensors")
        try SafeTensorsWriter.write([("bn.weight", Tensor([0.5, 2], shape: [2]))],
                                    int64: [("bn.num_batches_tracked", [12], [])], to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.names, ["bn.num_batches_tracked", "bn.weight"])
        XCTAssertEqual(try file.int64Values("bn.num_batches_tracked"), [12])
        XCTAssertEqual(try file.floatTensor("bn.weight").scalars, [0.5, 2])
        XCTAssertEqual(file.metadata, SafeTensorsWriter.defaultMetadata)
    }
}
