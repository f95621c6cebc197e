import Foundation
import HuggingFaceFiles
import Tensor
import XCTest

/// Opt-in (`RUBBLE_PYTHON_JSON=1`, needs `python3` on the PATH): Python's `json` module reads
/// the files Rubble writes back to the values transformers wrote, and every float exactly.
final class PythonJSONTests: XCTestCase {
    static let script = #"""
    import json, struct, sys
    ours, reference = sys.argv[1], sys.argv[2]
    for name in ["config.json", "preprocessor_config.json"]:
        with open(f"{ours}/{name}", encoding="utf-8") as f: a = json.load(f)
        with open(f"{reference}/{name}", encoding="utf-8") as f: b = json.load(f)
        assert a == b, (name, sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k)))
    def parts(path):
        with open(path, "rb") as f: data = f.read()
        (n,) = struct.unpack("<Q", data[:8])
        return json.loads(data[8:8 + n].decode("utf-8")), data[8 + n:]
    assert parts(f"{ours}/model.safetensors") == parts(f"{reference}/model.safetensors"), "model.safetensors"
    with open(f"{ours}/floats.json", encoding="utf-8") as f: floats = json.load(f)
    for value, bits in zip(floats["values"], floats["bits"], strict=True):
        expected = struct.unpack("<d", struct.pack("<Q", int(bits)))[0]
        assert value == expected and (isinstance(value, float) or expected == int(expected)), (value, expected)
    assert floats["text"] == "débris ☃ \"/\\\n\u0001😀", floats["text"]
    print("python agrees")
    """#

    func testPythonReadsWhatRubbleWrites() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["RUBBLE_PYTHON_JSON"] == "1", "set RUBBLE_PYTHON_JSON=1")
        let folder = try temporaryFolder(self, "python")
        try SegformerConfiguration.load(folder: SegformerFixture.folder).save(to: folder)
        try ImageProcessorConfiguration.load(folder: SegformerFixture.folder).save(to: folder)
        let original = try SafeTensorsFile(contentsOf: SegformerFixture.weights)
        var writer = SafeTensorsWriter(metadata: original.metadata)
        for entry in original.entries {
            writer.add(entry.name, dtype: entry.dtype, shape: entry.shape, bytes: try original.bytes(of: entry.name))
        }
        try writer.write(to: folder.appendingPathComponent(SafeTensorsFile.fileName))

        var generator = SeededGenerator(seed: 11)
        var values: [Double] = [0, -0.0, 1, 0.1, 1e-6, 1.0 / 255, 1e16, 2.3955760175515948e16, .leastNonzeroMagnitude,
                                .greatestFiniteMagnitude, 0x1p63, -0x1p63, 0x1p53 + 2]
        while values.count < 5000 {
            let value = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
            if value.isFinite { values.append(value) }
        }
        try JSONFile.write(["values": .array(values.map(JSONValue.number)),
                            "bits": .array(values.map { .string(String($0.bitPattern)) }),
                            "text": .string("débris ☃ \"/\\\n\u{1}😀")],
                           to: folder.appendingPathComponent("floats.json"))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, folder.path, SegformerFixture.folder.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertEqual(text, "python agrees\n")
    }
}
