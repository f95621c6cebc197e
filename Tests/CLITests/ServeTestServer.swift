import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KerasFiles
import Vision
import XCTest
import Zoo
#if canImport(Glibc)
import Glibc
#endif

/// A `rubble serve` process on a free loopback port, for the API tests, and a small HTTP client.
final class ServeTestServer: @unchecked Sendable {
    let process: Process
    let base: URL
    private let output: Pipe

    /// Starts `rubble serve --db store --listen 127.0.0.1:0 <arguments>` and waits for its
    /// "listening on" line (up to 120 s: the first start of a debug build loads the model).
    init(store: String, arguments: [String]) throws {
        process = Process()
        process.executableURL = ToolRunner.executable
        process.arguments = ["serve", "--db", store, "--listen", "127.0.0.1:0"] + arguments
        output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let handle = output.fileHandleForReading
        var text = ""
        let deadline = Date().addingTimeInterval(120)
        while !text.contains("\n"), Date() < deadline, process.isRunning {
            let chunk = handle.availableData
            if chunk.isEmpty { usleep(20_000) } else { text += String(decoding: chunk, as: UTF8.self) }
        }
        guard let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
              let url = URL(string: String(text[range])) else {
            process.terminate()
            throw XCTSkip("rubble serve did not start (printed \(text.debugDescription))")
        }
        base = url
    }

    /// SIGTERM, and waits for the workers to hand back their batches.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }

    struct Reply {
        let status: Int
        let body: Data
        let headers: [String: String]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func request(_ method: String, _ path: String, token: String?, body: Data? = nil,
                 headers: [String: String] = [:]) async throws -> Reply {
        guard let url = URL(string: path, relativeTo: base) else { throw URLError(.badURL) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 60
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] { fields["\(name)".lowercased()] = "\(value)" }
        return Reply(status: http?.statusCode ?? 0, body: data, headers: fields)
    }

    /// Polls the listing until none of `ids` is queued (up to `seconds`); their photos by id.
    func waitUntilAnswered(_ ids: [Int], token: String, seconds: Double = 120) async throws -> [Int: [String: Any]] {
        let deadline = Date().addingTimeInterval(seconds)
        let wanted = Set(ids)
        var answered: [Int: [String: Any]] = [:]
        while Date() < deadline {
            answered = [:]
            var after = 0
            while true {
                let page = try await request("GET", "/api/v1/photos?limit=500&after=\(after)", token: token)
                XCTAssertEqual(page.status, 200, page.text)
                for photo in page.json["photos"] as? [[String: Any]] ?? [] {
                    if let id = photo["id"] as? Int, wanted.contains(id), photo["status"] as? String != "queued" { answered[id] = photo }
                }
                guard let next = page.json["next"] as? Int else { break }
                after = next
            }
            if answered.count == ids.count { return answered }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        XCTFail("\(ids.count - answered.count) of \(ids.count) photos still queued after \(seconds) s")
        return answered
    }

    // MARK: - Fixtures

    /// A tiny baseline classifier (48x48, classes damage / intact) saved as Keras weights.
    static func weights(in folder: URL, seed: UInt64 = 5) throws -> URL {
        let model = try Architecture.baseline.makeClassifier(imageSize: 48, hiddenUnits: 8, classes: 2, seed: seed)
        let url = folder.appendingPathComponent("tiny.h5")
        try KerasWeights.save(model, to: url, metadata: ModelMetadata(classNames: ["damage", "intact"], inputShape: [48, 48, 3],
                                                                      architecture: "baseline", head: "8"))
        return url
    }

    /// The flags every test server uses: the tiny model, everything flagged, no size minimum.
    static func modelArguments(_ weights: URL) -> [String] {
        ["--arch", "baseline", "--head", "8", "--weights", weights.path, "--positive", "damage", "--threshold", "0",
         "--min-size", "0", "--batch-size", "8"]
    }

    /// A distinct 64x64 PNG for each `seed` (far apart in perceptual hash).
    static func photo(_ seed: Int) throws -> Data {
        let image = RGBImage(width: 64, height: 64) { x, y in
            (UInt8((x * (seed % 9 + 2) + y * 3 + seed * 37) % 256), UInt8((y * (seed % 7 + 1) + x + seed * 11) % 256),
             UInt8(((x / 8) ^ (y / 8) ^ seed) * 29 % 256))
        }
        return try ImageEncoder.encode(image, as: .png)
    }

    /// Adds an account with `role` to `store`; its token.
    static func addUser(_ name: String, role: String, store: String) throws -> String {
        let outcome = try ToolRunner.run(["users", "add", name, "--role", role, "--db", store])
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        let token = outcome.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(token.hasPrefix("rbl_") && token.count == 68, "the last line is the token alone: \(outcome.standardOutput)")
        return token
    }

    /// A PNG whose header claims `width` x `height` pixels, with a few bytes of data (a
    /// decompression bomb's header; its chunk checksums are right).
    static func claimingPNG(width: UInt32, height: UInt32) -> Data {
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be(UInt32(data.count)) + body + be(crc32(body))
        }
        let header = be(width) + be(height) + [8, 2, 0, 0, 0]
        let idat: [UInt8] = [0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", idat) + chunk("IEND", []))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
