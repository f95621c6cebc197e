import Foundation
import Hummingbird
import Logging
import Screening

/// `rubble serve`: a screening store behind an HTTP API (Hummingbird 2), with the server's own
/// workers answering what arrives, and the team's verification page at `/`.
///
/// Routes (`docs/openapi.yaml` is the contract): `/healthz` (no token); `/` and its scripts,
/// style and `/world.json` (the page, no token, no data); `/metrics` and `/api/v1/...`
/// (`Authorization: Bearer TOKEN`, held to a rate per account).
public enum ScreeningServer {
    /// Serves until SIGINT or SIGTERM, then lets the workers finish their batches.
    ///
    /// - Parameters:
    ///   - openStore: opens one more connection to the store (the request handlers' pool).
    ///   - workers: the in-process workers (none: only `rubble worker` processes elsewhere answer).
    ///   - listening: called with the address once the server accepts connections.
    public static func run(settings: ServerSettings, openStore: @escaping @Sendable () throws -> ScreeningStore,
                           workers: [ScreenWorker], pollSeconds: Double = 1,
                           listening: @escaping @Sendable (_ host: String, _ port: Int) -> Void) async throws {
        var logger = Logger(label: "rubble.serve")
        logger.logLevel = .notice
        let pool = try StorePool(connections: settings.storeConnections, open: openStore)
        defer { pool.stop() }
        let metrics = ServerMetrics()
        let background = BackgroundWorkers(workers, metrics: metrics, pollSeconds: pollSeconds, logger: logger)
        let router = makeRouter(settings: settings, pool: pool, metrics: metrics, logger: logger, arrived: { background.wake() })
        let host = settings.host
        let app = Application(router: router,
                              configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "rubble"),
                              onServerRunning: { channel in listening(host, channel.localAddress?.port ?? settings.port) },
                              logger: logger)
        background.start()
        defer { background.stop() }
        try await app.runService()
    }

    static func makeRouter(settings: ServerSettings, pool: StorePool, metrics: ServerMetrics, logger: Logger,
                           arrived: @escaping @Sendable () -> Void) -> Router<ServeContext> {
        let router = Router(context: ServeContext.self)
        router.add(middleware: RequestMetrics(metrics: metrics, logger: logger))
        PageRoutes().add(to: router)
        router.get("/healthz") { _, _ in
            let modelID = settings.modelID
            do {
                let depth = try await pool.run { try $0.queueDepth(modelID: modelID) }
                return JSONResponse.make(["status": "ok", "queue_depth": depth])
            } catch {
                return JSONResponse.make(["status": "unavailable", "error": "\(error)"], status: .serviceUnavailable)
            }
        }
        let authentication = Authentication(pool: pool, limiter: RateLimiter(perMinute: settings.requestsPerMinute), cache: TokenCache())
        router.group("metrics").add(middleware: authentication).get { request, context in
            _ = try context.require(.verifier)
            _ = try QueryParameters(request, allowed: [])
            let modelID = settings.modelID
            let counts = try await pool.run { try $0.photoCounts(modelID: modelID) }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.scrape(counts: counts))))
        }
        let api = router.group("api/v1").add(middleware: authentication)
        let photos = PhotoRoutes(settings: settings, pool: pool, metrics: metrics, arrived: arrived)
        photos.add(to: api)
        TeamRoutes(settings: settings, pool: pool, photos: photos).add(to: api)
        return router
    }
}
