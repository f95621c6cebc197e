import Foundation
import HTTPTypes
import Hummingbird

/// A refused request: its status and a sentence for the client, sent as `{"error": "..."}`.
struct APIError: HTTPResponseError, CustomStringConvertible {
    let status: HTTPResponse.Status
    let message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { "\(status.code) \(message)" }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, message) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.make(["error": message], status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"rubble\"" }
        return response
    }
}

/// JSON bodies: `{}` objects built from Swift values, with `null` kept for absent fields (the
/// API's clients read every documented field, present or null).
enum JSONResponse {
    static func make(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        body((try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8), status: status)
    }

    /// An `Encodable` value (the photos), keys sorted: the same record is the same text.
    static func encode(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return body(try encoder.encode(value), status: status)
    }

    private static func body(_ data: Data, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `value` or JSON null.
    static func orNull(_ value: Any?) -> Any { value ?? NSNull() }

    /// A probability as JSON: 6 significant digits (a Float has about 7), never NaN.
    static func number(_ value: Float) -> Any {
        value.isFinite ? (Double(String(format: "%.6g", Double(value))) ?? 0) : NSNull()
    }
}
