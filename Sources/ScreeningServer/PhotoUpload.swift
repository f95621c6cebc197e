import Digest
import Foundation
import Screening
import Vision

/// One uploaded photo, checked before anything is decoded: its format sniffed from the bytes
/// (never from a name or `Content-Type`), its pixel count read from the header and held to the
/// limit, its EXIF read for a time and place the client did not give. The bytes are kept in
/// the store under their digest; no client-given name ever reaches the file system.
struct PhotoUpload {
    let arrival: PhotoArrival
    let format: ImageFormat

    /// The query parameters an upload may carry.
    static let parameters: Set<String> = ["latitude", "longitude", "taken_at", "source"]

    init(bytes: Data, query: QueryParameters, uploader: String, maximumPixels: Int) throws {
        guard !bytes.isEmpty else { throw APIError.badRequest("the body is empty: send the photo's bytes (JPEG or PNG)") }
        guard let format = ImageFormat.detect(bytes.prefix(ImageFormat.sniffLength)) else {
            throw APIError(.unsupportedMediaType, "the body is not a JPEG or PNG photo (its first bytes say otherwise)")
        }
        let size: (width: Int, height: Int)
        do {
            size = try ImageDecoder.size(data: bytes, name: "the upload")
        } catch {
            throw APIError.badRequest("the upload is not a readable \(format.name): \(error)")
        }
        do {
            try DecodeLimits(maximumPixels: maximumPixels).check(width: size.width, height: size.height, file: "the upload")
        } catch {
            throw APIError(.contentTooLarge, "\(error)")
        }
        let latitude = try query.number("latitude", in: -90...90)
        let longitude = try query.number("longitude", in: -180...180)
        guard (latitude == nil) == (longitude == nil) else {
            throw APIError.badRequest("give both latitude and longitude, or neither")
        }
        let takenAt = try query.time("taken_at")
        let source = try query.text("source")
        let digest = SHA256.hash(bytes).hex
        // Each upload is an arrival of its own (two uploads of one photo: the second is its duplicate).
        let name = "upload/\(UUID().uuidString.lowercased()).\(format == .jpeg ? "jpg" : "png")"
        var arrival = PhotoArrival(path: name, pathBytes: Array(name.utf8), filePath: [], digest: digest)
        arrival.size = bytes.count
        arrival.image = Array(bytes)
        arrival.uploader = uploader
        arrival.source = source
        let metadata = format == .jpeg ? PhotoMetadata.read(jpeg: bytes) : PhotoMetadata()
        arrival.latitude = latitude ?? metadata.latitude
        arrival.longitude = longitude ?? metadata.longitude
        arrival.takenAt = takenAt ?? metadata.takenAt
        arrival.orientation = metadata.orientation
        self.arrival = arrival
        self.format = format
    }
}
