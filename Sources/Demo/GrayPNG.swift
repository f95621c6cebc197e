import CPNG
import Foundation
import Vision

/// 8-bit grayscale PNGs of class masks (one byte a pixel, the class index; 255 = ignore), as
/// segmentation datasets store them (`np.array(Image.open(mask))` gives the indices back).
///
/// A stopgap over the C shim's `rubble_png_encode_mem` (colour type 0; CPNG comes in through
/// Vision) until Vision has a mask type with its own gray encoder; then this file goes and the
/// facades write through it.
enum GrayPNG {
    /// The PNG bytes of `indices` (`[height, width]` row-major).
    static func encode(_ indices: [UInt8], width: Int, height: Int) throws -> Data {
        guard width > 0, height > 0, width <= Int32.max, height <= Int32.max,
              case let (count, overflow) = width.multipliedReportingOverflow(by: height), !overflow, count == indices.count else {
            throw ImageError.encodingFailed(detail: "gray PNG: \(indices.count) bytes for \(width)x\(height)")
        }
        var info = rubble_png_info()
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let code = indices.withUnsafeBufferPointer { samples in
            rubble_png_encode_mem(samples.baseAddress, Int32(width), Int32(height), Int32(RUBBLE_PNG_GRAY), 8, 0, nil, 0, 6,
                                  &out, &size, &info)
        }
        guard code == Int32(RUBBLE_PNG_OK), let buffer = out else {
            if let out { rubble_png_free(out) }
            let message = withUnsafeBytes(of: info.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw ImageError.encodingFailed(detail: "gray PNG: \(message)")
        }
        defer { rubble_png_free(buffer) }
        return Data(bytes: buffer, count: size)
    }

    /// Writes `indices` to `url` as a gray PNG, atomically.
    static func write(_ indices: [UInt8], width: Int, height: Int, to url: URL) throws {
        try ImageEncoder.writeAtomically(encode(indices, width: width, height: height), to: url)
    }
}
