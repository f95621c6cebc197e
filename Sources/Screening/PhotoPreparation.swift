import Digest
import Foundation
import GradCAM
import Inference
import Tensor
import Vision

/// Errors that stop a screening or de-duplication run (a bad photo never does). Every one is
/// raised before anything is written, except ``writeFailed(file:reason:)``.
public enum ScreenError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The folder to screen is missing or not a folder.
    case notADirectory(String)
    /// The folder to screen exists but cannot be listed (the reason, e.g. permission denied).
    case unreadableFolder(String, reason: String)
    case invalidOption(String)
    /// The output folder already holds `results.csv` or `report.html` of an earlier run (the
    /// file named) and ``ScreenOptions/overwrite`` is off: nothing was written.
    case outputHoldsResults(String)
    /// The output path exists and is not a folder.
    case outputNotAFolder(String)
    case writeFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case .notADirectory(let path): return "\(path): not a folder (missing, or not a folder)"
        case .unreadableFolder(let path, let reason): return "\(path): cannot read the folder (\(reason))"
        case .invalidOption(let message): return message
        case .outputHoldsResults(let file):
            return "\(file) already exists: the results of an earlier run are never replaced unasked; "
                + "give --overwrite to replace them, or another output folder (nothing was written)"
        case .outputNotAFolder(let path): return "\(path) exists and is not a folder: give a folder for the output"
        case .writeFailed(let file, let reason): return "\(file): cannot write (\(reason))"
        }
    }
}

/// What the screen keeps of a decoded photo: the full-size decode is reduced to this as soon
/// as it is hashed, so a batch holds small pictures only.
public struct ReducedPhoto: Sendable {
    /// The size the photo was decoded at (JPEGs: the DCT scale just above the model input).
    public let decodedWidth: Int
    public let decodedHeight: Int
    /// The model input: `size * size * 3` floats (resized and preprocessed by the pipeline).
    public let input: [Float]
    /// The photo at its Grad-CAM panel tile size (nil when no panels are drawn).
    public let thumbnail: RGBImage?
    /// The inputs of ``PhotoPreparer/otherInputs``' pipelines (e.g. the relevancy model's), in order.
    public var otherInputs: [[Float]] = []
}

/// One photo after the per-file work that needs no model: read, digest, size check, decode,
/// hash (and, for the screen, reduction to the model input and the panel thumbnail).
public struct PreparedPhoto: Sendable {
    public enum State: Sendable {
        /// Decoded and hashed, ready for the duplicate check (and, with `reduced`, the model).
        case ready(hash: PerceptualHash, reduced: ReducedPhoto?)
        /// Byte-identical to a photo of an earlier batch (its representative id and that photo's
        /// distance to it); not decoded.
        case knownCopy(representative: Int, distance: Int)
        /// Smaller than the minimum on a side (from the header; not decoded).
        case tooSmall(width: Int, height: Int)
        /// Could not be read or decoded; the message names the file and the reason.
        case failed(String)
    }

    public let file: PhotoFile
    public internal(set) var digest: SHA256Digest?
    public internal(set) var state: State = .failed("not processed")
    /// Whether the failure may go away once the file changes (empty, truncated, corrupt or
    /// unreadable: what a file still being written looks like), so `--follow` retries it.
    public internal(set) var mayChange = false
    /// Time spent on this file: reading and digesting, decoding (and reducing), hashing (one core).
    public internal(set) var readSeconds = 0.0
    public internal(set) var decodeSeconds = 0.0
    public internal(set) var hashSeconds = 0.0

    public var seconds: Double { readSeconds + decodeSeconds + hashSeconds }
}

/// Wall-clock time and item count of each stage of a run (for the images/s summary).
public struct StageTimes: Sendable {
    public struct Stage: Sendable {
        public let name: String
        public var items = 0
        public var seconds = 0.0
        public var imagesPerSecond: Double { seconds > 0 ? Double(items) / seconds : 0 }
    }

    public private(set) var stages: [Stage] = []

    public init(_ names: [String] = []) { stages = names.map { Stage(name: $0) } }

    public mutating func add(_ name: String, items: Int, seconds: Double) {
        if let i = stages.firstIndex(where: { $0.name == name }) {
            stages[i].items += items
            stages[i].seconds += seconds
        } else {
            stages.append(Stage(name: name, items: items, seconds: seconds))
        }
    }

    public subscript(_ name: String) -> Stage? { stages.first { $0.name == name } }

    /// A fixed-width table: stage, images, seconds, images/s.
    public func table(total: (items: Int, seconds: Double)? = nil) -> String {
        var lines = ["stage             images   seconds   images/s"]
        func line(_ name: String, _ items: Int, _ seconds: Double) -> String {
            let rate = seconds > 0 && items > 0 ? String(format: "%10.1f", Double(items) / seconds) : "         -"
            return name.padding(toLength: 16, withPad: " ", startingAt: 0)
                + String(format: " %7d %9.3f ", items, seconds) + rate
        }
        for s in stages { lines.append(line(s.name, s.items, s.seconds)) }
        if let total { lines.append(line("end to end", total.items, total.seconds)) }
        return lines.joined(separator: "\n")
    }
}

/// Seconds since `start`.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// The model-free work on a batch of photos, spread over the cores. Each photo goes through
/// every step on one core — read and digest, header size check, decode, hash, reduction —
/// and only what is reduced survives the step, so at most one full-size decode (and one
/// file's bytes) per core is alive at a time, however large the batch or the photos.
/// Stage times ("read+digest", "decode", "hash") share out the batch's wall time in
/// proportion to the time the photos spent in each step.
public struct PhotoPreparer: Sendable {
    /// The perceptual hash computed for each photo.
    public var hashKind: PerceptualHashKind = .phash
    /// Photos narrower or lower than this (from the header) are not decoded; 0 keeps all.
    public var minimumSide = 0
    /// Decode at the smallest scale still at least this large on both sides (nil: full size,
    /// which gives imagehash's exact hashes).
    public var decodeAtLeast: Int?
    /// When set, each decoded photo is reduced to this pipeline's model input (``ReducedPhoto``).
    public var modelInput: ImagePipeline?
    /// When set (with ``modelInput``), also to a thumbnail at this panel layout's tile size.
    public var thumbnail: GradCAMPanel?
    /// With ``modelInput``: more pipelines to reduce each photo for (the relevancy model's).
    public var otherInputs: [ImagePipeline] = []

    public init(hashKind: PerceptualHashKind = .phash, minimumSide: Int = 0, decodeAtLeast: Int? = nil,
                modelInput: ImagePipeline? = nil, thumbnail: GradCAMPanel? = nil, otherInputs: [ImagePipeline] = []) {
        self.otherInputs = otherInputs
        self.hashKind = hashKind
        self.minimumSide = minimumSide
        self.decodeAtLeast = decodeAtLeast
        self.modelInput = modelInput
        self.thumbnail = thumbnail
    }

    /// Prepares `files`; `known` (a snapshot of the duplicate index) lets exact copies of
    /// earlier photos skip decoding. Stage times are added to `times` under "read+digest",
    /// "decode" and "hash".
    public func prepare(_ files: [PhotoFile], known: DuplicateIndex? = nil, times: inout StageTimes) -> [PreparedPhoto] {
        var photos = files.map { PreparedPhoto(file: $0) }
        guard !photos.isEmpty else { return photos }
        let clock = ContinuousClock.now
        let preparer = self
        Self.each(&photos) { photo in preparer.prepare(&photo, known: known) }
        let wall = seconds(since: clock)
        let read = photos.reduce(0) { $0 + $1.readSeconds }, decode = photos.reduce(0) { $0 + $1.decodeSeconds }
        let hash = photos.reduce(0) { $0 + $1.hashSeconds }
        let busy = read + decode + hash
        func share(_ part: Double) -> Double { busy > 0 ? wall * part / busy : 0 }
        times.add("read+digest", items: photos.count, seconds: share(read))
        times.add("decode", items: photos.filter { $0.decodeSeconds > 0 }.count, seconds: share(decode))
        times.add("hash", items: photos.filter { $0.hashSeconds > 0 }.count, seconds: share(hash))
        return photos
    }

    /// Every step for one photo, on the calling thread.
    func prepare(_ photo: inout PreparedPhoto, known: DuplicateIndex?) {
        if let problem = photo.file.problem {
            photo.state = .failed(problem)
            return
        }
        var start = ContinuousClock.now
        // The file's bytes live only inside this closure: gone once the photo is decoded.
        let decoded: RGBImage? = { () -> RGBImage? in
            let data: Data
            do {
                data = try photo.file.storedBytes ?? POSIXPath.readFile(photo.file.fileSystemPath, followLinks: photo.file.followsLinks)
            } catch {
                let reason = (error as? POSIXPath.ReadFailure)?.reason ?? Self.reason(error)
                photo.state = .failed(ImageError.unreadable(file: photo.file.path, reason: reason).description)
                photo.mayChange = true
                photo.readSeconds = seconds(since: start)
                return nil
            }
            let digest = SHA256.hash(data)
            photo.digest = digest
            if let (r, d) = known?.exactMatch(digest) {
                photo.state = .knownCopy(representative: r, distance: d)
                photo.readSeconds = seconds(since: start)
                return nil
            }
            do {
                let size = try ImageDecoder.size(data: data, name: photo.file.path)
                if size.width < minimumSide || size.height < minimumSide {
                    photo.state = .tooSmall(width: size.width, height: size.height)
                    photo.readSeconds = seconds(since: start)
                    return nil
                }
            } catch {
                fail(&photo, error)
                photo.readSeconds = seconds(since: start)
                return nil
            }
            photo.readSeconds = seconds(since: start)
            start = ContinuousClock.now
            defer { photo.decodeSeconds = seconds(since: start) }
            do {
                return try ImageDecoder.decode(data: data, name: photo.file.path, atLeast: decodeAtLeast.map { ($0, $0) })
            } catch {
                fail(&photo, error)
                return nil
            }
        }()
        guard let image = decoded else { return }
        start = ContinuousClock.now
        let hash = PerceptualHash(hashKind, of: image)
        photo.hashSeconds = seconds(since: start)
        start = ContinuousClock.now
        photo.state = .ready(hash: hash, reduced: reduce(image))
        photo.decodeSeconds += seconds(since: start)
    }

    /// The model input and thumbnail of a decoded photo (nil without ``modelInput``).
    func reduce(_ image: RGBImage) -> ReducedPhoto? {
        guard let pipeline = modelInput else { return nil }
        func input(for pipeline: ImagePipeline) -> [Float] {
            let size = pipeline.imageSize
            let length = size * size * 3
            return [Float](unsafeUninitializedCapacity: length) { buffer, count in
                ModelInput.write(image, height: size, width: size, method: pipeline.resize,
                                 preprocessing: pipeline.preprocessing, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<length]))
                count = length
            }
        }
        let input = input(for: pipeline)
        let small = thumbnail.map { layout -> RGBImage in
            let (w, h) = layout.tileSize(for: image)
            return image.width == w && image.height == h ? image : Resize.resized(image, width: w, height: h, method: .bilinear)
        }
        var reduced = ReducedPhoto(decodedWidth: image.width, decodedHeight: image.height, input: input, thumbnail: small)
        reduced.otherInputs = otherInputs.map(input(for:))
        return reduced
    }

    private func fail(_ photo: inout PreparedPhoto, _ error: Error) {
        photo.state = .failed("\(error)")
        switch error as? ImageError {
        case .empty?, .truncated?, .corrupt?, .unreadable?: photo.mayChange = true
        default: photo.mayChange = false
        }
    }

    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        return ns.localizedDescription
    }

    /// Runs `body` on every element, the elements spread over the cores.
    static func each(_ photos: inout [PreparedPhoto], _ body: @escaping (inout PreparedPhoto, Int) -> Void) {
        let count = photos.count
        photos.withUnsafeMutableBufferPointer { buffer in
            let base = UncheckedSendable(buffer.baseAddress!)
            let body = UncheckedSendable(body)
            Parallel.forEachRange(count) { range in
                for i in range { body.value(&base.value[i], i) }
            }
        }
    }

    static func each(_ photos: inout [PreparedPhoto], _ body: @escaping (inout PreparedPhoto) -> Void) {
        each(&photos) { photo, _ in body(&photo) }
    }
}
