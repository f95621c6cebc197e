import Hummingbird

/// The verification page and its files, built into the binary (SwiftPM `embedInCode`): the
/// page works offline, its map included. These are the only paths served without a token:
/// they hold no photo, no result and no location.
struct PageRoutes {
    /// Scripts, styles and data from this origin only; images also from `blob:` (photos are
    /// fetched with the token and shown from blobs).
    static let contentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; style-src 'self'; "
        + "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    func add(to router: Router<ServeContext>) {
        serve(router, "/", PackageResources.index_html, type: "text/html; charset=utf-8")
        serve(router, "/api.js", PackageResources.api_js, type: "text/javascript; charset=utf-8")
        serve(router, "/gallery.js", PackageResources.gallery_js, type: "text/javascript; charset=utf-8")
        serve(router, "/map.js", PackageResources.map_js, type: "text/javascript; charset=utf-8")
        serve(router, "/team.js", PackageResources.team_js, type: "text/javascript; charset=utf-8")
        serve(router, "/app.js", PackageResources.app_js, type: "text/javascript; charset=utf-8")
        serve(router, "/app.css", PackageResources.app_css, type: "text/css; charset=utf-8")
        serve(router, "/world.json", PackageResources.world_json, type: "application/json")
    }

    private func serve(_ router: Router<ServeContext>, _ path: RouterPath, _ bytes: [UInt8], type: String) {
        let buffer = ByteBuffer(bytes: bytes)
        router.get(path) { _, _ in
            Response(status: .ok, headers: [.contentType: type, .contentSecurityPolicy: Self.contentSecurityPolicy,
                                            .xContentTypeOptions: "nosniff", .cacheControl: "no-cache"],
                     body: ResponseBody(byteBuffer: buffer))
        }
    }
}
