import Foundation
import XCTest

/// What `rubble serve` refuses, and how: every malformed request is a 4xx with a sentence that
/// names the problem, and nothing is stored.
final class ServeHostileInputTests: XCTestCase {
    func testBadRequestsAre400sWithAMessageAndStoreNothing() async throws {
        let root = try temporaryDirectory(self)
        let store = root.appendingPathComponent("event.sqlite").path
        let uploader = try ServeTestServer.addUser("app", role: "uploader", store: store)
        let ana = try ServeTestServer.addUser("ana", role: "verifier", store: store)
        let weights = try ServeTestServer.weights(in: root)
        let server = try ServeTestServer(store: store, arguments: ServeTestServer.modelArguments(weights) + ["--max-body-bytes", "100000"])
        defer { server.stop() }
        let photo = try ServeTestServer.photo(1)
        let first = try await server.request("POST", "/api/v1/photos", token: uploader, body: photo)
        let id = try XCTUnwrap(first.json["id"] as? Int)
        _ = try await server.waitUntilAnswered([id], token: ana)

        func expect(_ status: Int, _ method: String, _ path: String, token: String, body: Data? = nil, says words: String,
                    line: UInt = #line) async throws {
            let reply = try await server.request(method, path, token: token, body: body)
            XCTAssertEqual(reply.status, status, "\(method) \(path): \(reply.text)", line: line)
            let message = reply.json["error"] as? String ?? ""
            XCTAssertTrue(message.contains(words), "\(method) \(path): \(message.debugDescription) should say \(words)", line: line)
        }
        // Uploads: limits checked before decoding, the format sniffed from the bytes.
        try await expect(413, "POST", "/api/v1/photos", token: uploader, body: Data(count: 150_000), says: "100000")
        try await expect(413, "POST", "/api/v1/photos", token: uploader,
                         body: ServeTestServer.claimingPNG(width: 60000, height: 60000), says: "60000x60000")
        try await expect(415, "POST", "/api/v1/photos", token: uploader, body: Data("<html>not a photo</html>".utf8), says: "JPEG or PNG")
        try await expect(400, "POST", "/api/v1/photos", token: uploader, body: photo.prefix(20), says: "not a readable PNG")
        try await expect(400, "POST", "/api/v1/photos", token: uploader, body: Data(), says: "empty")
        for (query, words) in [("latitude=abc&longitude=1", "latitude must be a number"), ("latitude=91&longitude=1", "-90.0...90.0"),
                               ("latitude=10&longitude=-181", "longitude"), ("latitude=10", "both latitude and longitude"),
                               ("latitude=nan&longitude=1", "latitude"), ("taken_at=yesterday", "ISO 8601"),
                               ("camera=1", "unknown query parameter"), ("source=a&source=b", "twice")] {
            try await expect(400, "POST", "/api/v1/photos?\(query)", token: uploader, body: photo, says: words)
        }
        // Listings.
        for (query, words) in [("limit=-1", "limit"), ("limit=100000", "1...500"), ("limit=abc", "limit"), ("after=-5", "after"),
                               ("status=finished", "status must be one of"), ("flagged=maybe", "true or false"),
                               ("label=cat", "not a class"), ("since=monday", "ISO 8601"), ("sort=id", "unknown query parameter")] {
            try await expect(400, "GET", "/api/v1/photos?\(query)", token: ana, says: words)
        }
        try await expect(400, "GET", "/api/v1/photos/abc", token: ana, says: "positive integer")
        try await expect(404, "GET", "/api/v1/photos/999999", token: ana, says: "no photo 999999")
        // Verdicts.
        let verdicts = "/api/v1/photos/\(id)/verdicts"
        for (body, words) in [("{\"label\": ", "not valid JSON"), ("[\"damage\"]", "JSON object"), ("{\"label\": 3}", "must be a string"),
                              ("{\"label\": \"cat\"}", "not a class"), ("{\"label\": \"damage\", \"note\": \"x\"}", "unknown field \"note\""),
                              ("", "empty")] {
            try await expect(400, "POST", verdicts, token: ana, body: Data(body.utf8), says: words)
        }
        try await expect(404, "POST", "/api/v1/photos/999999/verdicts", token: ana, body: Data(#"{"label":"damage"}"#.utf8), says: "no photo")
        // Nothing of that was stored.
        let all = try await server.request("GET", "/api/v1/photos?limit=500", token: ana).json["photos"] as? [[String: Any]] ?? []
        XCTAssertEqual(all.count, 1, "only the first upload is stored")
        XCTAssertEqual((all.first?["verdicts"] as? [Any])?.count, 0, "no verdict is stored")
        let metrics = try await server.request("GET", "/metrics", token: ana).text
        XCTAssertTrue(metrics.contains("rubble_uploads_rejected_total{reason=\"too_many_pixels\"} 1"), metrics)

    }

    func testAnAccountOverItsRateGets429WithRetryAfterAndOthersGoOn() async throws {
        let root = try temporaryDirectory(self)
        let store = root.appendingPathComponent("event.sqlite").path
        let burst = try ServeTestServer.addUser("burst", role: "verifier", store: store)
        let calm = try ServeTestServer.addUser("calm", role: "verifier", store: store)
        let server = try ServeTestServer(store: store, arguments: ServeTestServer.modelArguments(try ServeTestServer.weights(in: root))
            + ["--rate-limit", "60"])
        defer { server.stop() }
        // 60 a minute: a burst of 10, then 429 with Retry-After, for that account only.
        var statuses: [Int] = []
        for _ in 0..<14 { statuses.append(try await server.request("GET", "/api/v1/me", token: burst).status) }
        XCTAssertEqual(statuses.filter { $0 == 200 }.count, 10, "\(statuses)")
        let limited = try await server.request("GET", "/api/v1/me", token: burst)
        XCTAssertEqual(limited.status, 429)
        XCTAssertNotNil(limited.headers["retry-after"].flatMap(Int.init))
        let other = try await server.request("GET", "/api/v1/me", token: calm)
        XCTAssertEqual(other.status, 200, "other accounts go on")
    }

    func testUsersAddRefusesBadNamesRolesAndRepeats() throws {
        let root = try temporaryDirectory(self)
        let store = root.appendingPathComponent("event.sqlite").path
        _ = try ServeTestServer.addUser("ana", role: "verifier", store: store)
        let again = try ToolRunner.run(["users", "add", "ana", "--db", store])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.standardError.contains("already a user ana"), again.standardError)
        let role = try ToolRunner.run(["users", "add", "ben", "--role", "boss", "--db", store])
        XCTAssertEqual(role.status, 64)
        XCTAssertTrue(role.standardError.contains("uploader, verifier or admin"), role.standardError)
        let name = try ToolRunner.run(["users", "add", "a b/../c", "--db", store])
        XCTAssertEqual(name.status, 1)
        XCTAssertTrue(name.standardError.contains("letters, digits"), name.standardError)
        let listed = try ToolRunner.run(["users", "list", "--db", store])
        XCTAssertEqual(listed.standardOutput.split(separator: "\n").map { $0.split(separator: "\t").prefix(2).joined(separator: " ") },
                       ["ana verifier"])
        let listen = try ToolRunner.run(["serve", "--db", store, "--listen", "localhost", "--arch", "baseline", "--random-weights"])
        XCTAssertEqual(listen.status, 64)
        XCTAssertTrue(listen.standardError.contains("HOST:PORT"), listen.standardError)
    }
}
