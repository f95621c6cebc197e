import Foundation
import Tensor

/// The fixtures' `.npy` reader: a forwarder to the library's one reader, ``NPYFile``
/// (Sources/Tensor/NPYFile.swift), kept so that the tests read fixtures as `NPY.read(url)`.
public enum NPY {
    /// The array at `url` as a float32 tensor (throws ``NPYError``).
    public static func read(_ url: URL) throws -> Tensor { try NPYFile.read(url) }
}

/// The checked-in reference files under `Tests/Fixtures`.
public enum Fixtures {
    public static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    public static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    public static func tensor(_ name: String) throws -> Tensor { try NPY.read(url(name + ".npy")) }
}
