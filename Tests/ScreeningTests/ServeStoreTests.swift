import Foundation
import Inference
@testable import Screening
import SQLiteStore
import Vision
import XCTest

/// The store's side of `rubble serve`: accounts kept as token hashes, uploads kept as bytes and
/// answered by a worker from there, the API's listing with its filters and cursor, the upgrade
/// of a store written before accounts existed, and the team's agreement figures.
final class ServeStoreTests: XCTestCase {
    func testTokensAreRecognisedByTheirHashOnly() throws {
        for (name, open) in try databases("users") {
            let store = try ScreeningStore(open())
            let token = try store.addUser(name: "ana", role: .verifier)
            XCTAssertTrue(token.hasPrefix("rbl_") && token.count == 68, name)
            XCTAssertEqual(try store.user(token: token)?.name, "ana", name)
            XCTAssertEqual(try store.user(token: token)?.role, .verifier, name)
            XCTAssertNil(try store.user(token: token + "0"), name)
            XCTAssertNil(try store.user(token: ""), name)
            let stored = try store.database.transaction(exclusive: false) { db in try db.query("SELECT token_hash FROM users") }
            XCTAssertEqual(stored.map { $0.text(0) }, [ScreeningStore.tokenHash(token)], name)
            XCTAssertNotEqual(stored.first?.text(0), token, name)
            XCTAssertThrowsError(try store.addUser(name: "ana", role: .admin)) { error in
                XCTAssertEqual(error as? StoreError, .userExists(location: store.location, name: "ana"), name)
            }
            for bad in ["", "a b", "../x", String(repeating: "a", count: 65), "ana\u{0}"] {
                XCTAssertThrowsError(try store.addUser(name: bad, role: .uploader), "\(name): \(bad.debugDescription)")
            }
            XCTAssertTrue(UserRole.uploader < .verifier && UserRole.verifier < .admin)
            store.database.close()
        }
    }

    func testUploadsAreAnsweredFromTheirStoredBytesAndListedWithFilters() throws {
        for (name, open) in try databases("uploads") {
            let store = try ScreeningStore(open())
            let model = try store.register(StoredModel(fingerprint: "tiny", description: "tiny", classNames: screeningClassNames))
            let run = try store.startRun(modelID: model, folder: "serve", options: RunOptions(positive: 0, threshold: 0, minimumSide: 0, explain: false))
            var arrivals: [PhotoArrival] = []
            for n in 0..<5 {
                let bytes = Array(try ImageEncoder.encode(syntheticPhoto(width: 96, height: 96, seed: n % 4 * 7 + 1), as: .jpeg))
                var a = PhotoArrival(path: "upload/\(n).jpg", pathBytes: Array("upload/\(n).jpg".utf8), filePath: [],
                                     digest: SHA256.hash(Data(bytes)).hex)
                a.image = bytes
                a.uploader = "app"
                a.source = n < 2 ? "drone" : "app"
                if n == 1 { a.latitude = 37.1; a.longitude = 36.2 }
                arrivals.append(a)
            }
            let ids = try store.enqueue(arrivals, modelID: model, runID: run).map(\.photo)
            XCTAssertEqual(try store.image(of: ids[2]), arrivals[2].image, name)
            let kept = try store.database.transaction(exclusive: false) { db in try db.scalar("SELECT COUNT(*) FROM images")?.int }
            XCTAssertEqual(kept, 4, "\(name): five uploads of four distinct photos keep four copies of bytes, by digest")
            XCTAssertEqual(try store.photoRecords(modelID: model, classCount: 2, PhotoQuery()).photos.map(\.status),
                           Array(repeating: PhotoStatus.queued, count: 5), name)
            // No file anywhere: the worker reads the bytes from the store.
            let worker = try worker(store, modelID: model, name: "w")
            while try worker.workOnce() > 0 {}
            let all = try store.photoRecords(modelID: model, classCount: 2, PhotoQuery()).photos
            XCTAssertEqual(all.map(\.status), [PhotoStatus.done, .done, .done, .done, .duplicate], "\(name): \(all.map(\.error))")
            XCTAssertEqual(all[4].duplicateOf, ids[0], name)
            XCTAssertEqual(all[1].latitude, 37.1, name)
            XCTAssertEqual(all[0].uploader, "app", name)
            XCTAssertEqual(all[0].probabilities.reduce(0, +), 1, accuracy: 1e-5, name)

            try store.addVerdicts([(ids[1], "damage")], verifier: "ana")
            func listed(_ change: (inout PhotoQuery) -> Void) throws -> [Int] {
                var query = PhotoQuery()
                change(&query)
                return try store.photoRecords(modelID: model, classCount: 2, query).photos.map(\.id)
            }
            XCTAssertEqual(try listed { $0.source = "drone" }, Array(ids[0..<2]), name)
            XCTAssertEqual(try listed { $0.verified = true }, [ids[1]], name)
            XCTAssertEqual(try listed { $0.verified = false }.count, 4, name)
            XCTAssertEqual(try listed { $0.status = .duplicate }, [ids[4]], name)
            XCTAssertEqual(try listed { $0.flagged = true }.count, 4, name)
            XCTAssertEqual(try listed { $0.flagged = false }, [ids[4]], name)
            XCTAssertEqual(try listed { $0.until = "2000-01-01T00:00:00.000Z" }, [], name)
            XCTAssertEqual(try listed { $0.since = "2000-01-01T00:00:00.000Z" }.count, 5, name)
            // Pages of two: the cursor is the last id of a page, nil on the last one.
            var query = PhotoQuery()
            query.limit = 2
            var pages: [[Int]] = []
            while true {
                let page = try store.photoRecords(modelID: model, classCount: 2, query)
                pages.append(page.photos.map(\.id))
                guard let next = page.next else { break }
                query.after = next
            }
            XCTAssertEqual(pages, [Array(ids[0..<2]), Array(ids[2..<4]), [ids[4]]], name)
            XCTAssertEqual(try store.photoCounts(modelID: model)[.done], 4, name)
            // A new model gets every stored photo queued once.
            let other = try store.register(StoredModel(fingerprint: "other", description: "other", classNames: screeningClassNames))
            XCTAssertEqual(try store.queueStoredPhotos(modelID: other, runID: run), 5, name)
            XCTAssertEqual(try store.queueStoredPhotos(modelID: other, runID: run), 0, name)
            XCTAssertEqual(try store.photoCounts(modelID: other)[.queued], 5, name)
            store.database.close()
        }
    }

    func testAStoreWrittenBeforeAccountsIsUpgradedInPlace() throws {
        let path = try temporaryFolder(self, "upgrade").appendingPathComponent("v1.sqlite").path
        let old = try SQLiteDatabase(path: path)
        try old.transaction(exclusive: true) { db in
            try db.execute("CREATE TABLE migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
            for statement in StoreSchema.migrations[0].statements(.sqlite) { try db.execute(statement) }
            try db.execute("INSERT INTO migrations (version, applied_at) VALUES (1, 'then')")
            try db.execute("""
                INSERT INTO photos (path, path_bytes, file_path, digest, follows_links, added_at) VALUES ('a.jpg', x'612e6a7067', x'2f612e6a7067', 'd', 0, 'then')
                """)
        }
        old.close()
        let store = try ScreeningStore(SQLiteDatabase(path: path))
        let version = try store.database.transaction(exclusive: false) { db in try db.scalar("SELECT MAX(version) FROM migrations")?.int }
        XCTAssertEqual(version, StoreSchema.version)
        XCTAssertEqual(try store.photoIDs(shownPaths: ["a.jpg"]), ["a.jpg": 1], "the old photo is kept")
        XCTAssertNotNil(try store.user(token: store.addUser(name: "ana", role: .admin)))
    }

    func testAgreementIsTheShareOfEqualLabelsAndCohensKappa() {
        // Three labels; a and b judge photos 1-6, c only photo 1. Latest verdicts count.
        let log: [(photo: Int, label: String, verifier: String, predicted: String?)] = [
            (1, "x", "a", "x"), (1, "y", "a", "x"), (1, "y", "b", "x"), (1, "y", "c", "x"),
            (2, "x", "a", "x"), (2, "x", "b", "x"), (3, "z", "a", "y"), (3, "z", "b", "y"),
            (4, "y", "a", "y"), (4, "x", "b", "y"), (5, "x", "a", nil), (5, "x", "b", nil), (6, "z", "a", "z"), (6, "y", "b", "z"),
        ]
        let team = VerifierAgreement(log)
        XCTAssertEqual(team.verifiers.map(\.name), ["a", "b", "c"])
        XCTAssertEqual(team.verifiers.map(\.verdicts), [7, 6, 1])
        XCTAssertEqual(team.verifiers.map(\.photos), [6, 6, 1])
        XCTAssertEqual(team.verifiers.map(\.agreeWithModel), [3, 1, 0])
        let ab = team.pairs[0]
        XCTAssertEqual([ab.a, ab.b, "\(ab.photos)", "\(ab.agreed)"], ["a", "b", "6", "4"])
        // a: y x z y x z -> x 2, y 2, z 2; b: y x z x x y -> x 3, y 2, z 1; p_e = (2*3 + 2*2 + 2*1) / 36 = 1/3.
        XCTAssertEqual(ab.rate ?? 0, 4.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(ab.kappa ?? 0, (4.0 / 6 - 1.0 / 3) / (1 - 1.0 / 3), accuracy: 1e-12)
        XCTAssertEqual(team.pairs.map { "\($0.a)\($0.b)" }, ["ab", "ac", "bc"])
        XCTAssertEqual(team.pairs[1].photos, 1)
        XCTAssertEqual(team.pairs[1].kappa, 1, "one shared photo with the one same label: full agreement")
        XCTAssertEqual(VerifierAgreement([]).pairs, [])
    }
}
