import Foundation
import Hummingbird
import Markup
import Screening

/// The team's side of the API: who is signed in, the model, verdicts, the verifiers' counts
/// and agreement, and the export of verified photos.
struct TeamRoutes {
    let settings: ServerSettings
    let pool: StorePool
    let photos: PhotoRoutes

    func add(to api: RouterGroup<ServeContext>) {
        api.get("me") { request, context in
            let user = try context.require(.uploader)
            _ = try QueryParameters(request, allowed: [])
            return JSONResponse.make(["name": user.name, "role": user.role.rawValue])
        }
        api.get("model") { request, context in
            _ = try context.require(.uploader)
            _ = try QueryParameters(request, allowed: [])
            return JSONResponse.make(["classes": settings.classNames, "positive": settings.classNames[settings.positive],
                                      "threshold": JSONResponse.number(settings.threshold), "description": settings.modelDescription])
        }
        api.post("photos/:id/verdicts") { request, context in try await verdict(request, context) }
        api.get("verifiers") { request, context in try await verifiers(request, context) }
        api.get("export/verified.csv") { request, context in try await verifiedCSV(request, context) }
    }

    /// `POST /api/v1/photos/{id}/verdicts` `{"label": CLASS}`: 201 with the stored verdict.
    func verdict(_ request: Request, _ context: ServeContext) async throws -> Response {
        let user = try context.require(.verifier)
        _ = try QueryParameters(request, allowed: [])
        let record = try await photos.find(request, context)
        let body = try await request.body.collect(upTo: 4096)
        let label = try Self.verdictLabel(Data(buffer: body), classNames: settings.classNames)
        let now = StoreClock.timestamp()
        try await pool.run { store in try store.addVerdicts([(record.id, label)], verifier: user.name) }
        return JSONResponse.make(["photo": record.id, "label": label, "verifier": user.name, "created_at": now], status: .created)
    }

    /// The `label` of a verdict body: a JSON object with exactly that one string field, naming a class.
    static func verdictLabel(_ body: Data, classNames: [String]) throws -> String {
        guard !body.isEmpty else { throw APIError.badRequest("the body is empty: send {\"label\": CLASS}") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: body)
        } catch {
            throw APIError.badRequest("the body is not valid JSON: send {\"label\": CLASS}")
        }
        guard let object = parsed as? [String: Any] else { throw APIError.badRequest("the body must be a JSON object {\"label\": CLASS}") }
        if let unknown = object.keys.filter({ $0 != "label" }).sorted().first {
            throw APIError.badRequest("unknown field \(unknown.debugDescription): a verdict has only \"label\"")
        }
        guard let label = object["label"] as? String else { throw APIError.badRequest("\"label\" must be a string naming a class") }
        guard classNames.contains(label) else {
            throw APIError.badRequest("label \(label.debugDescription) is not a class (\(classNames.joined(separator: ", ")))")
        }
        return label
    }

    func verifiers(_ request: Request, _ context: ServeContext) async throws -> Response {
        _ = try context.require(.verifier)
        _ = try QueryParameters(request, allowed: [])
        let modelID = settings.modelID
        let log = try await pool.run { store in try store.verdictLog(modelID: modelID) }
        let team = VerifierAgreement(log.map { ($0.photo, $0.label, $0.verifier, $0.predicted) })
        return JSONResponse.make([
            "verifiers": team.verifiers.map {
                ["name": $0.name, "verdicts": $0.verdicts, "photos": $0.photos, "agree_with_model": $0.agreeWithModel] as [String: Any]
            },
            "agreement": team.pairs.map {
                ["a": $0.a, "b": $0.b, "photos": $0.photos, "agreed": $0.agreed, "rate": JSONResponse.orNull($0.rate),
                 "kappa": JSONResponse.orNull($0.kappa)] as [String: Any]
            },
        ])
    }

    /// Columns of `verified.csv`: one row per photo with a verdict, its latest.
    static let verifiedHeader = ["id", "path", "digest", "predicted", "probability", "verified_label", "verifier", "verified_at",
                                 "latitude", "longitude", "taken_at", "source"]

    func verifiedCSV(_ request: Request, _ context: ServeContext) async throws -> Response {
        _ = try context.require(.verifier)
        _ = try QueryParameters(request, allowed: [])
        let (modelID, classCount) = (settings.modelID, settings.classNames.count)
        var query = PhotoQuery()
        query.verified = true
        query.limit = 500
        let chosen = query
        let (records, paths) = try await pool.run { store -> ([PhotoRecord], [Int: (path: String, digest: String)]) in
            var all: [PhotoRecord] = []
            var page = chosen
            while true {
                let next = try store.photoRecords(modelID: modelID, classCount: classCount, page)
                all += next.photos
                guard let cursor = next.next else { break }
                page.after = cursor
            }
            return (all, try store.pathsAndDigests(of: all.map(\.id)))
        }
        var lines = [Self.verifiedHeader.joined(separator: ",")]
        for r in records {
            guard let verdict = r.verdicts.last else { continue }
            let probability = r.probabilities.count > settings.positive ? "\(r.probabilities[settings.positive])" : ""
            let fields = ["\(r.id)", paths[r.id]?.path ?? "", paths[r.id]?.digest ?? "", r.label ?? "", probability, verdict.label,
                          verdict.verifier, verdict.createdAt, r.latitude.map { "\($0)" } ?? "", r.longitude.map { "\($0)" } ?? "",
                          r.takenAt ?? "", r.source ?? ""]
            lines.append(fields.map(CSVFormat.field).joined(separator: ","))
        }
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"verified.csv\"",
                                               .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n") + "\n")))
    }
}
