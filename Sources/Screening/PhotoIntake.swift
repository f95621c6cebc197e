import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Tensor
import Vision

/// The first touch of a new photo: one read of its bytes for the SHA-256 digest, its size and
/// its EXIF capture time, GPS position and orientation (``PhotoMetadata``: malformed EXIF gives
/// empty fields, never an error), spread over the cores, and its absolute path; what ``ScreeningStore/enqueue(_:modelID:runID:)``
/// stores. The bytes are not kept: a worker reads the file again to decode it (and checks the digest).
public enum PhotoIntake {
    public static func read(_ files: [PhotoFile]) -> [PhotoArrival] {
        var arrivals = files.map { file in
            // The name as shown identifies the entry (a link inside the folder is an entry of its
            // own, though it opens its target's file); the escapes keep it one-to-one with the bytes.
            PhotoArrival(path: file.path, pathBytes: absolute(Array(file.path.utf8)), filePath: absolute(file.fileSystemPath), digest: "")
        }
        arrivals.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedSendable(buffer)
            Parallel.forEachRange(files.count) { range in
                for i in range {
                    let file = files[i]
                    out.value[i].followsLinks = file.followsLinks
                    if let problem = file.problem {
                        out.value[i].problem = problem
                        continue
                    }
                    do {
                        let data = try POSIXPath.readFile(file.fileSystemPath, followLinks: file.followsLinks)
                        out.value[i].digest = SHA256.hash(data).hex
                        out.value[i].size = data.count
                        let metadata = PhotoMetadata.read(jpeg: data)
                        out.value[i].takenAt = metadata.takenAt
                        out.value[i].latitude = metadata.latitude
                        out.value[i].longitude = metadata.longitude
                        out.value[i].orientation = metadata.orientation
                    } catch {
                        // The worker reads it again and records why it failed.
                    }
                }
            }
        }
        return arrivals
    }

    /// `path` made absolute (against the working folder), with `.` components and repeated
    /// slashes removed; bytes, so names that are not UTF-8 survive.
    public static func absolute(_ path: [UInt8]) -> [UInt8] {
        var full = path
        if path.first != 0x2F {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            if getcwd(&buffer, buffer.count) != nil {
                full = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) } + [0x2F] + path
            }
        }
        let parts = full.split(separator: 0x2F, omittingEmptySubsequences: true).filter { $0 != [0x2E] }
        return [0x2F] + Array(parts.joined(separator: [0x2F]))
    }
}
