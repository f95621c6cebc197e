import Foundation
import XCTest

/// `rubble serve` on loopback, as its clients use it: concurrent uploads answered by the
/// in-process worker, duplicates across uploads, accounts and roles, verdicts with the team's
/// agreement, a restart that keeps everything, and a `rubble worker` answering uploads.
final class ServeCommandTests: XCTestCase {
    private var root: URL!
    private var weights: URL!
    private var store: String { root.appendingPathComponent("event.sqlite").path }

    override func setUpWithError() throws {
        root = try temporaryDirectory(self)
        weights = try ServeTestServer.weights(in: root)
    }

    private func startServer(_ extra: [String] = []) throws -> ServeTestServer {
        try ServeTestServer(store: store, arguments: ServeTestServer.modelArguments(weights) + extra)
    }

    func testFiftyConcurrentUploadsAreAllAnsweredWithCopiesAsDuplicates() async throws {
        let uploader = try ServeTestServer.addUser("field-app", role: "uploader", store: store)
        let verifier = try ServeTestServer.addUser("ana", role: "verifier", store: store)
        let server = try startServer()
        defer { server.stop() }
        // 45 distinct photos and 5 byte-identical copies of some of them, all sent at once.
        let photos = try (0..<45).map(ServeTestServer.photo) + [3, 9, 17, 30, 44].map(ServeTestServer.photo)
        let ids = try await withThrowingTaskGroup(of: (Int, Int, Int).self) { group in
            for (n, bytes) in photos.enumerated() {
                group.addTask {
                    let reply = try await server.request("POST", "/api/v1/photos?latitude=37.\(n)&longitude=36.5&source=app",
                                                         token: uploader, body: bytes)
                    return (n, reply.status, reply.json["id"] as? Int ?? -1)
                }
            }
            var ids = [Int](repeating: -1, count: photos.count)
            for try await (n, status, id) in group {
                XCTAssertEqual(status, 202, "upload \(n)")
                ids[n] = id
            }
            return ids
        }
        XCTAssertEqual(Set(ids).count, 50, "every upload is a photo of its own: \(ids)")
        let answers = try await server.waitUntilAnswered(ids, token: verifier)
        XCTAssertEqual(answers.count, 50)
        // Of each pair of identical uploads, the later arrival is the duplicate of the earlier.
        for (copy, original) in zip(45..<50, [3, 9, 17, 30, 44]) {
            let (first, second) = (min(ids[copy], ids[original]), max(ids[copy], ids[original]))
            XCTAssertEqual(answers[second]?["status"] as? String, "duplicate", "photo \(second)")
            XCTAssertEqual(answers[second]?["duplicate_of"] as? Int, first, "photo \(second)")
            XCTAssertEqual(answers[first]?["status"] as? String, "done", "photo \(first)")
        }
        let done = answers.values.filter { $0["status"] as? String == "done" }
        XCTAssertEqual(done.count, 45)
        for answer in done {
            let p = answer["probabilities"] as? [String: Double] ?? [:]
            XCTAssertEqual(Set(p.keys), ["damage", "intact"])
            XCTAssertEqual((p["damage"] ?? 0) + (p["intact"] ?? 0), 1, accuracy: 1e-4)
            XCTAssertEqual(answer["flagged"] as? Bool, true, "threshold 0 flags every classified photo")
            XCTAssertEqual(answer["has_gradcam"] as? Bool, true)
            XCTAssertEqual(answer["latitude"] as? Double ?? 0, 37, accuracy: 1)
        }
        // The listing, 10 at a time, walks every flagged photo once, in id order.
        var seen: [Int] = []
        var after = 0
        for _ in 0..<10 {
            let page = try await server.request("GET", "/api/v1/photos?flagged=true&limit=10&after=\(after)", token: verifier)
            XCTAssertEqual(page.status, 200, page.text)
            let rows = page.json["photos"] as? [[String: Any]] ?? []
            seen += rows.compactMap { $0["id"] as? Int }
            guard let next = page.json["next"] as? Int else { break }
            after = next
        }
        XCTAssertEqual(seen, done.compactMap { $0["id"] as? Int }.sorted())
        let image = try await server.request("GET", "/api/v1/photos/\(ids[0])/image", token: verifier)
        XCTAssertEqual(image.body, photos[0], "the stored bytes are the uploaded ones")
        XCTAssertEqual(image.headers["content-type"], "image/png")
        let panel = try await server.request("GET", "/api/v1/photos/\(ids[0])/gradcam", token: verifier)
        XCTAssertEqual(panel.status, 200)
        XCTAssertEqual(Array(panel.body.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let metrics = try await server.request("GET", "/metrics", token: verifier)
        XCTAssertTrue(metrics.text.contains("rubble_photos{status=\"done\"} 45"), metrics.text)
        XCTAssertTrue(metrics.text.contains("rubble_photos{status=\"duplicate\"} 5"), metrics.text)
        XCTAssertTrue(metrics.text.contains("rubble_queue_depth 0"), metrics.text)
        XCTAssertTrue(metrics.text.contains("rubble_stage_seconds_bucket{stage=\"classify\""), metrics.text)
        XCTAssertTrue(metrics.text.contains("rubble_intake_seconds_count 50"), metrics.text)
    }

    func testTokensAndRolesGuardEveryEndpointButHealthAndThePage() async throws {
        let uploader = try ServeTestServer.addUser("app", role: "uploader", store: store)
        let other = try ServeTestServer.addUser("other-app", role: "uploader", store: store)
        let verifier = try ServeTestServer.addUser("ana", role: "verifier", store: store)
        let server = try startServer()
        defer { server.stop() }
        let storeBytes = try Data(contentsOf: URL(fileURLWithPath: store))
        XCTAssertNil(storeBytes.range(of: Data(verifier.utf8)), "the store keeps no token, only its hash")
        for path in ["/api/v1/photos", "/api/v1/me", "/api/v1/photos/1", "/api/v1/export/verified.csv", "/metrics"] {
            let none = try await server.request("GET", path, token: nil)
            XCTAssertEqual(none.status, 401, path)
            XCTAssertEqual(none.headers["www-authenticate"], "Bearer realm=\"rubble\"", path)
            XCTAssertNotNil(none.json["error"] as? String, path)
            let wrong = try await server.request("GET", path, token: "rbl_" + String(repeating: "0", count: 64))
            XCTAssertEqual(wrong.status, 401, path)
        }
        let upload = try await server.request("POST", "/api/v1/photos", token: nil, body: ServeTestServer.photo(1))
        XCTAssertEqual(upload.status, 401)
        let health = try await server.request("GET", "/healthz", token: nil)
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(health.json["status"] as? String, "ok")
        let page = try await server.request("GET", "/", token: nil)
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.text.contains("id=\"signin\""))
        XCTAssertTrue(page.headers["content-security-policy"]?.contains("default-src 'self'") ?? false)
        let world = try await server.request("GET", "/world.json", token: nil)
        XCTAssertTrue(world.text.contains("Natural Earth"))
        for script in ["api", "gallery", "map", "team", "app"] {
            let file = try await server.request("GET", "/\(script).js", token: nil)
            XCTAssertEqual(file.status, 200, script)
            XCTAssertEqual(file.headers["content-type"], "text/javascript; charset=utf-8", script)
            XCTAssertTrue(page.text.contains("src=\"/\(script).js\"") || page.text.contains("src=\"\(script).js\""), "index.html loads \(script).js")
        }

        let me = try await server.request("GET", "/api/v1/me", token: uploader)
        XCTAssertEqual(me.json["name"] as? String, "app")
        XCTAssertEqual(me.json["role"] as? String, "uploader")
        let sent = try await server.request("POST", "/api/v1/photos", token: uploader, body: ServeTestServer.photo(1))
        XCTAssertEqual(sent.status, 202)
        XCTAssertEqual(sent.json["status"] as? String, "queued")
        let id = try XCTUnwrap(sent.json["id"] as? Int)
        let reply1 = try await server.request("GET", "/api/v1/photos/\(id)", token: uploader)

        XCTAssertEqual(reply1.status, 200, "an uploader sees its photo")
        let reply2 = try await server.request("GET", "/api/v1/photos/\(id)", token: other)

        XCTAssertEqual(reply2.status, 404, "but not another's")
        for path in ["/api/v1/photos", "/api/v1/photos/\(id)/image", "/api/v1/verifiers", "/metrics"] {
            let refused = try await server.request("GET", path, token: uploader)
            XCTAssertEqual(refused.status, 403, path)
            XCTAssertTrue((refused.json["error"] as? String ?? "").contains("uploader"), refused.text)
        }
        let verdict = try await server.request("POST", "/api/v1/photos/\(id)/verdicts", token: uploader, body: Data(#"{"label":"damage"}"#.utf8))
        XCTAssertEqual(verdict.status, 403)
        let reply3 = try await server.request("GET", "/api/v1/photos", token: verifier)

        XCTAssertEqual(reply3.status, 200)
    }

    func testVerdictsOfTwoVerifiersGiveTheirAgreementAndARestartKeepsEverything() async throws {
        let uploader = try ServeTestServer.addUser("app", role: "uploader", store: store)
        let ana = try ServeTestServer.addUser("ana", role: "verifier", store: store)
        let ben = try ServeTestServer.addUser("ben", role: "admin", store: store)
        var server = try startServer()
        var ids: [Int] = []
        for n in 0..<5 {
            let reply = try await server.request("POST", "/api/v1/photos?taken_at=2023-02-06T04:17:00Z&source=drone", token: uploader,
                                                 body: ServeTestServer.photo(100 + n))
            ids.append(try XCTUnwrap(reply.json["id"] as? Int))
        }
        _ = try await server.waitUntilAnswered(ids, token: ana)
        // ana: damage damage intact intact; ben: damage intact intact intact (and ana changes her mind once).
        for (id, label) in zip(ids, ["intact", "damage", "intact", "intact"]) + [(ids[0], "damage")] {
            let reply = try await server.request("POST", "/api/v1/photos/\(id)/verdicts", token: ana, body: Data(#"{"label":"\#(label)"}"#.utf8))
            XCTAssertEqual(reply.status, 201, reply.text)
            XCTAssertEqual(reply.json["verifier"] as? String, "ana")
        }
        for (id, label) in zip(ids, ["damage", "intact", "intact", "intact"]) {
            _ = try await server.request("POST", "/api/v1/photos/\(id)/verdicts", token: ben, body: Data(#"{"label":"\#(label)"}"#.utf8))
        }
        let team = try await server.request("GET", "/api/v1/verifiers", token: ana).json
        let pair = try XCTUnwrap((team["agreement"] as? [[String: Any]])?.first)
        XCTAssertEqual(pair["a"] as? String, "ana")
        XCTAssertEqual(pair["b"] as? String, "ben")
        XCTAssertEqual(pair["photos"] as? Int, 4)
        XCTAssertEqual(pair["agreed"] as? Int, 3)
        XCTAssertEqual(pair["rate"] as? Double ?? 0, 0.75, accuracy: 1e-9)
        // p_e = 0.5 * 0.25 + 0.5 * 0.75 = 0.5, kappa = (0.75 - 0.5) / 0.5
        XCTAssertEqual(pair["kappa"] as? Double ?? 0, 0.5, accuracy: 1e-9)
        let verifiers = team["verifiers"] as? [[String: Any]] ?? []
        XCTAssertEqual(verifiers.map { $0["verdicts"] as? Int }, [5, 4])
        XCTAssertEqual(verifiers.map { $0["photos"] as? Int }, [4, 4])
        let photo = try await server.request("GET", "/api/v1/photos/\(ids[0])", token: ana).json
        XCTAssertEqual(photo["verdict"] as? String, "damage", "the latest verdict counts")
        XCTAssertEqual((photo["verdicts"] as? [Any])?.count, 3)
        XCTAssertEqual(photo["taken_at"] as? String, "2023-02-06T04:17:00.000Z")
        let unverified = try await server.request("GET", "/api/v1/photos?verified=false", token: ana).json
        XCTAssertEqual((unverified["photos"] as? [[String: Any]])?.compactMap { $0["id"] as? Int }, [ids[4]])
        let before = try await server.request("GET", "/api/v1/photos?limit=500", token: ana).text
        let csv = try await server.request("GET", "/api/v1/export/verified.csv", token: ana).text
        let lines = csv.split(separator: "\n")
        XCTAssertEqual(lines.first, "id,path,digest,predicted,probability,verified_label,verifier,verified_at,latitude,longitude,taken_at,source")
        XCTAssertEqual(lines.count, 5, csv)
        XCTAssertTrue(lines[1].hasPrefix("\(ids[0]),upload/"), csv)
        XCTAssertTrue(lines[1].contains(",damage,ben,"), "the latest verdict of photo 1 is ben's: \(csv)")

        // The verified uploads are an evaluation set (and a training set) for the next model.
        let evaluation = root.appendingPathComponent("evaluation")
        let evaluated = try ToolRunner.run(["evaluate", "--weights", weights.path, "--db", store, "--out", evaluation.path])
        XCTAssertEqual(evaluated.status, 0, evaluated.standardError)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: evaluation.appendingPathComponent("metrics.json"))) as? [String: Any]
        XCTAssertEqual((metrics?["confusionMatrix"] as? [[Int]])?.joined().reduce(0, +), 4, "the four photos with a verdict")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: evaluation.appendingPathComponent("uploads").path).count, 4)

        server.stop()
        server = try startServer()
        defer { server.stop() }
        let after = try await server.request("GET", "/api/v1/photos?limit=500", token: ana).text
        XCTAssertEqual(after, before, "a restart keeps every photo, result and verdict")
        let reply4 = try await server.request("GET", "/api/v1/verifiers", token: ben)

        XCTAssertEqual(reply4.json["agreement"] as? [[String: AnyHashable]],
                       team["agreement"] as? [[String: AnyHashable]])
        let more = try await server.request("POST", "/api/v1/photos", token: uploader, body: ServeTestServer.photo(200))
        let next = try XCTUnwrap(more.json["id"] as? Int)
        XCTAssertEqual(next, ids.last.map { $0 + 1 })
        let answered = try await server.waitUntilAnswered([next], token: ana)
        XCTAssertEqual(answered[next]?["status"] as? String, "done")

        // A new model (say, retrained from these verdicts) answers the whole stream again.
        server.stop()
        let retrained = root.appendingPathComponent("retrained")
        try FileManager.default.createDirectory(at: retrained, withIntermediateDirectories: true)
        let other = try ServeTestServer.weights(in: retrained, seed: 11)
        server = try ServeTestServer(store: store, arguments: ServeTestServer.modelArguments(other))
        let again = try await server.waitUntilAnswered(ids + [next], token: ana)
        XCTAssertEqual(again.count, 6)
        XCTAssertNotEqual(again[ids[1]]?["probabilities"] as? [String: Double], photo["probabilities"] as? [String: Double])
        XCTAssertEqual(again[ids[0]]?["verdict"] as? String, "damage", "verdicts are of the photo, whatever the model")
    }

    func testARubbleWorkerAnswersUploadsFromTheStoreAlone() async throws {
        var stores = [store]
        if let url = ProcessInfo.processInfo.environment["RUBBLE_POSTGRES_URL"] { stores.append(try Self.freshPostgresDatabase(url)) }
        for store in stores {
            let uploader = try ServeTestServer.addUser("app", role: "uploader", store: store)
            let ana = try ServeTestServer.addUser("ana", role: "verifier", store: store)
            let server = try ServeTestServer(store: store, arguments: ServeTestServer.modelArguments(weights) + ["--workers", "0"])
            defer { server.stop() }
            var ids: [Int] = []
            for n in 0..<6 {
                let reply = try await server.request("POST", "/api/v1/photos", token: uploader, body: ServeTestServer.photo(300 + n % 5))
                ids.append(try XCTUnwrap(reply.json["id"] as? Int, reply.text))
            }
            try await Task.sleep(nanoseconds: 1_500_000_000)
            let waiting = try await server.request("GET", "/api/v1/photos?status=queued", token: ana).json
            XCTAssertEqual((waiting["photos"] as? [Any])?.count, 6, "\(store): no worker in the server: the photos wait")
            // Another machine's worker: the photos' bytes come from the store. It takes the
            // threshold and minimum size from the server's run.
            let worker = try ToolRunner.run(["worker", "--db", store, "--until-idle", "--arch", "baseline", "--head", "8",
                                             "--weights", weights.path])
            XCTAssertEqual(worker.status, 0, worker.standardError)
            let answers = try await server.waitUntilAnswered(ids, token: ana, seconds: 10)
            XCTAssertEqual(ids.map { answers[$0]?["status"] as? String }, ["done", "done", "done", "done", "done", "duplicate"], store)
            XCTAssertEqual(answers[ids[5]]?["duplicate_of"] as? Int, ids[0], store)
            // Any machine's export links the report's cards to copies of the uploaded bytes.
            let snapshot = root.appendingPathComponent("snapshot-\(stores.firstIndex(of: store) ?? 0)")
            let exported = try ToolRunner.run(["export", "--db", store, "--out", snapshot.path])
            XCTAssertEqual(exported.status, 0, exported.standardError)
            let report = try String(contentsOf: snapshot.appendingPathComponent("report.html"), encoding: .utf8)
            let copies = try FileManager.default.contentsOfDirectory(atPath: snapshot.appendingPathComponent("uploads").path)
            XCTAssertEqual(copies.count, 5, "one copy per distinct flagged upload: \(copies)")
            for copy in copies { XCTAssertTrue(report.contains("./uploads/\(copy)"), copy) }
            let first = try Data(contentsOf: snapshot.appendingPathComponent("uploads/\(copies.sorted()[0])"))
            XCTAssertTrue(try (300..<305).map(ServeTestServer.photo).contains(first))
        }
    }

    func testTheOpenAPIFileDocumentsEveryRouteAndEveryPhotoField() async throws {
        let spec = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/openapi.yaml").standardizedFileURL, encoding: .utf8)
        for path in ["/healthz", "/metrics", "/api/v1/me", "/api/v1/model", "/api/v1/photos", "/api/v1/photos/{id}",
                     "/api/v1/photos/{id}/image", "/api/v1/photos/{id}/gradcam", "/api/v1/photos/{id}/verdicts",
                     "/api/v1/verifiers", "/api/v1/export/verified.csv"] {
            XCTAssertTrue(spec.contains("\n  \(path):\n"), "docs/openapi.yaml documents \(path)")
        }
        let uploader = try ServeTestServer.addUser("app", role: "uploader", store: store)
        let server = try startServer()
        defer { server.stop() }
        let sent = try await server.request("POST", "/api/v1/photos", token: uploader, body: ServeTestServer.photo(1))
        let photo = try await server.request("GET", "/api/v1/photos/\(try XCTUnwrap(sent.json["id"] as? Int))", token: uploader)
        // The Photo schema's required list (it spans two lines in the file).
        let start = try XCTUnwrap(spec.range(of: "    Photo:\n      type: object\n      required: ["))
        let end = try XCTUnwrap(spec[start.upperBound...].firstIndex(of: "]"))
        let documented = Set(spec[start.upperBound..<end].split(whereSeparator: { ", \n".contains($0) }).map(String.init))
        XCTAssertEqual(Set(photo.json.keys), documented, "the fields of a photo are the documented ones")
    }

    /// A new, empty database on the PostgreSQL server `url` names (dropped when the test ends).
    static func freshPostgresDatabase(_ url: String) throws -> String {
        guard let slash = url.lastIndex(of: "/") else { throw XCTSkip("RUBBLE_POSTGRES_URL \(url) has no database") }
        let name = "rubble_serve_\(UInt32.random(in: 0...UInt32.max))"
        func psql(_ sql: String) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
            process.arguments = [url, "-q", "-c", sql]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "psql \(sql)")
        }
        try psql("CREATE DATABASE \(name)")
        return String(url[..<slash]) + "/" + name
    }
}
