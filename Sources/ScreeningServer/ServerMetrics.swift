import Foundation
import Hummingbird
import Logging
import Prometheus
import Screening

/// `/metrics` in Prometheus' text format (swift-prometheus): photos by status and the queue
/// depth (read from the store at each scrape, so they count every worker's answers), upload
/// counts, and latency histograms of the intake, of each worker stage and of every route.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let photos: [PhotoStatus: Gauge]
    private let queueDepth: Gauge
    private let uploads: Counter
    private let intake: DurationHistogram
    static let latencyBuckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                             .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                             .seconds(2.5), .seconds(5), .seconds(10), .seconds(30)]

    init() {
        let registry = self.registry
        photos = Dictionary(uniqueKeysWithValues: PhotoStatus.allCases.map { status in
            (status, registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "rubble", metricName: "photos", unitName: "",
                                                                          helpText: "Photos queued for the server's model, by status"),
                                        labels: [("status", status.rawValue)]))
        })
        queueDepth = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "rubble", metricName: "queue_depth", unitName: "",
                                                                          helpText: "Photos queued or being worked on"))
        uploads = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "rubble", metricName: "uploads", unitName: "total",
                                                                         helpText: "Photos accepted by POST /api/v1/photos"))
        intake = registry.makeDurationHistogram(descriptor: MetricNameDescriptor(namespace: "rubble", metricName: "intake",
                                                                                  unitName: "seconds",
                                                                                  helpText: "Time to check, store and queue one upload"),
                                                buckets: Self.latencyBuckets)
    }

    func accepted(seconds: Double) {
        uploads.increment()
        intake.recordSeconds(seconds)
    }

    func rejected(_ reason: String) {
        registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "rubble", metricName: "uploads_rejected", unitName: "total",
                                                               helpText: "Uploads refused, by reason"),
                             labels: [("reason", reason)]).increment()
    }

    /// One batch's time in a worker stage (`decode`, `classify`, `gradcam`, ...), per photo.
    func stage(_ name: String, seconds: Double, items: Int) {
        guard items > 0 else { return }
        let histogram = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "rubble", metricName: "stage", unitName: "seconds",
                                             helpText: "Seconds per photo of each worker stage, one observation per batch"),
            labels: [("stage", name)], buckets: Self.latencyBuckets)
        histogram.recordSeconds(seconds / Double(items))
    }

    func request(route: String, method: String, status: Int, seconds: Double) {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "rubble", metricName: "http_request", unitName: "seconds",
                                             helpText: "Time to answer a request, by route, method and status"),
            labels: [("route", route), ("method", method), ("status", "\(status)")], buckets: Self.latencyBuckets
        ).recordSeconds(seconds)
    }

    /// The text of a scrape, after reading the counts from the store.
    func scrape(counts: [PhotoStatus: Int]) -> String {
        for (status, gauge) in photos { gauge.set(Double(counts[status] ?? 0)) }
        queueDepth.set(Double(counts[.queued] ?? 0))
        return registry.emitToString()
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

extension DurationHistogram {
    func recordSeconds(_ seconds: Double) {
        record(.nanoseconds(Int64(max(0, min(seconds, 1e6)) * 1e9)))
    }
}

/// Times every request into ``ServerMetrics`` by its route pattern (never the raw path: ids
/// would make a series per photo).
struct RequestMetrics: RouterMiddleware {
    typealias Context = ServeContext
    let metrics: ServerMetrics
    let logger: Logger

    func handle(_ request: Request, context: ServeContext, next: (Request, ServeContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.request(route: context.endpointPath ?? "unknown", method: request.method.rawValue, status: response.status.code,
                            seconds: ServerMetrics.seconds(since: start))
            return response
        } catch let error as any HTTPResponseError {
            metrics.request(route: context.endpointPath ?? "unknown", method: request.method.rawValue, status: error.status.code,
                            seconds: ServerMetrics.seconds(since: start))
            throw error
        } catch {
            // The store failed (or a bug): a 500 that says so, and the log has the details.
            logger.error("\(request.method) \(request.uri.path): \(error)")
            metrics.request(route: context.endpointPath ?? "unknown", method: request.method.rawValue, status: 500,
                            seconds: ServerMetrics.seconds(since: start))
            return JSONResponse.make(["error": "the server could not answer: \(error)"], status: .internalServerError)
        }
    }
}
