import Foundation
import HTTPTypes
import Hummingbird
import Screening
import Vision

/// `/api/v1/photos`: uploads, a photo's status, the listing, its image and its Grad-CAM panel.
struct PhotoRoutes {
    let settings: ServerSettings
    let pool: StorePool
    let metrics: ServerMetrics
    /// Wakes the in-process workers when a photo arrives.
    let arrived: @Sendable () -> Void

    func add(to api: RouterGroup<ServeContext>) {
        api.post("photos") { request, context in try await upload(request, context) }
        api.get("photos") { request, context in try await list(request, context) }
        api.get("photos/:id") { request, context in try await photo(request, context) }
        api.get("photos/:id/image") { request, context in try await image(request, context) }
        api.get("photos/:id/gradcam") { request, context in try await gradCAM(request, context) }
    }

    /// `POST /api/v1/photos`: 202 `{"id", "status": "queued"}` once the photo is in the store
    /// and queued; classification happens later, on the workers.
    func upload(_ request: Request, _ context: ServeContext) async throws -> Response {
        let start = ContinuousClock.now
        let user = try context.require(.uploader)
        let query = try QueryParameters(request, allowed: PhotoUpload.parameters)
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > settings.maximumBodyBytes {
            metrics.rejected("too_large")
            throw APIError(.contentTooLarge, "the body is \(length) bytes; at most \(settings.maximumBodyBytes) are accepted")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: settings.maximumBodyBytes)
        } catch {
            metrics.rejected("too_large")
            throw APIError(.contentTooLarge, "the body is over \(settings.maximumBodyBytes) bytes")
        }
        let upload: PhotoUpload
        do {
            upload = try PhotoUpload(bytes: Data(buffer: body), query: query, uploader: user.name, maximumPixels: settings.maximumPixels)
        } catch let error as APIError {
            metrics.rejected(error.status == .contentTooLarge ? "too_many_pixels" : "invalid")
            throw error
        }
        let arrival = upload.arrival
        let (modelID, runID) = (settings.modelID, settings.runID)
        let stored = try await pool.run { store in try store.enqueue([arrival], modelID: modelID, runID: runID) }
        guard let id = stored.first?.photo else { throw APIError(.internalServerError, "the store returned no id for the upload") }
        arrived()
        metrics.accepted(seconds: ServerMetrics.seconds(since: start))
        var response = JSONResponse.make(["id": id, "status": PhotoStatus.queued.rawValue], status: .accepted)
        response.headers[.location] = "/api/v1/photos/\(id)"
        return response
    }

    /// `GET /api/v1/photos/{id}`: an uploader sees only the photos it sent.
    func photo(_ request: Request, _ context: ServeContext) async throws -> Response {
        let user = try context.require(.uploader)
        _ = try QueryParameters(request, allowed: [])
        let record = try await find(request, context)
        if user.role == .uploader && record.uploader != user.name {
            throw APIError.notFound("there is no photo \(record.id) of yours")
        }
        return try JSONResponse.encode(PhotoJSON(record: record, classNames: settings.classNames))
    }

    func list(_ request: Request, _ context: ServeContext) async throws -> Response {
        _ = try context.require(.verifier)
        let q = try QueryParameters(request, allowed: ["flagged", "status", "after", "limit", "label", "verified", "source", "since", "until"])
        var query = PhotoQuery()
        query.flagged = try q.boolean("flagged")
        if let status = try q.text("status") {
            guard let known = PhotoStatus(rawValue: status) else {
                throw APIError.badRequest("status must be one of \(PhotoStatus.allCases.map(\.rawValue).joined(separator: ", ")), got \(status.debugDescription)")
            }
            query.status = known
        }
        query.after = try q.integer("after", in: 0...Int(Int64.max)) ?? 0
        query.limit = try q.integer("limit", in: 1...500) ?? 50
        if let label = try q.text("label") {
            guard settings.classNames.contains(label) || label == "irrelevant" else {
                throw APIError.badRequest("label \(label.debugDescription) is not a class (\(settings.classNames.joined(separator: ", ")))")
            }
            query.label = label
        }
        query.verified = try q.boolean("verified")
        query.source = try q.text("source")
        query.since = try q.time("since")
        query.until = try q.time("until")
        let (modelID, classCount, chosen) = (settings.modelID, settings.classNames.count, query)
        let page = try await pool.run { store in try store.photoRecords(modelID: modelID, classCount: classCount, chosen) }
        return try JSONResponse.encode(PhotoPageJSON(photos: page.photos.map { PhotoJSON(record: $0, classNames: settings.classNames) },
                                                     next: page.next))
    }

    /// `GET /api/v1/photos/{id}/image`: the bytes as uploaded, typed by what they are.
    func image(_ request: Request, _ context: ServeContext) async throws -> Response {
        _ = try context.require(.verifier)
        let id = try photoID(context)
        guard let bytes = try await pool.run({ try $0.image(of: id) }) else {
            throw APIError.notFound("photo \(id) has no stored image (it was screened from a folder, or does not exist)")
        }
        let type = ImageFormat.detect(bytes.prefix(ImageFormat.sniffLength)) == .png ? "image/png" : "image/jpeg"
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "private, max-age=3600"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `GET /api/v1/photos/{id}/gradcam`: the Grad-CAM panel (PNG) of a flagged photo.
    func gradCAM(_ request: Request, _ context: ServeContext) async throws -> Response {
        _ = try context.require(.verifier)
        let id = try photoID(context)
        let modelID = settings.modelID
        guard let png = try await pool.run({ try $0.panel(photo: id, modelID: modelID, kind: "gradcam") }) else {
            throw APIError.notFound("photo \(id) has no Grad-CAM panel (only flagged photos get one, once classified)")
        }
        return Response(status: .ok, headers: [.contentType: "image/png", .cacheControl: "private, max-age=3600"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: png)))
    }

    func photoID(_ context: ServeContext) throws -> Int {
        guard let text = context.parameters.get("id"), let id = Int(text), id > 0 else {
            throw APIError.badRequest("the photo id must be a positive integer, got \((context.parameters.get("id") ?? "").debugDescription)")
        }
        return id
    }

    func find(_ request: Request, _ context: ServeContext) async throws -> PhotoRecord {
        let id = try photoID(context)
        let (modelID, classCount) = (settings.modelID, settings.classNames.count)
        guard let record = try await pool.run({ try $0.photoRecord(id, modelID: modelID, classCount: classCount) }) else {
            throw APIError.notFound("there is no photo \(id)")
        }
        return record
    }
}
