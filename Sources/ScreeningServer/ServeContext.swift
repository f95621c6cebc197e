import Foundation
import Hummingbird
import Screening

/// A request's context: Hummingbird's core plus the account its bearer token names.
struct ServeContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Set by ``Authentication`` on every `/api` and `/metrics` request.
    var user: StoredUser?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// The account, if its role is at least `role`; else 403 (or 401 without an account).
    func require(_ role: UserRole) throws -> StoredUser {
        guard let user else { throw APIError(.unauthorized, "sign in: send Authorization: Bearer TOKEN") }
        guard user.role >= role else {
            throw APIError(.forbidden, "\(user.name) is \(user.role.rawValue); this needs the role \(role.rawValue) or above")
        }
        return user
    }
}

/// Recognises `Authorization: Bearer TOKEN` (401 without or with a wrong one) and holds each
/// account to its rate (429 with `Retry-After`). Tokens are looked up by their SHA-256; a
/// recognised one is remembered for half a minute so a busy client does not cost a query per
/// request.
struct Authentication: RouterMiddleware {
    typealias Context = ServeContext
    let pool: StorePool
    let limiter: RateLimiter
    let cache: TokenCache

    func handle(_ request: Request, context: ServeContext, next: (Request, ServeContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "no Authorization header: send Authorization: Bearer TOKEN (rubble users add prints one)")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError(.unauthorized, "the Authorization header must be Bearer TOKEN")
        }
        let token = String(parts[1]).trimmingCharacters(in: .whitespaces)
        let user: StoredUser
        if let known = cache.user(token) {
            user = known
        } else {
            guard let found = try await pool.run({ try $0.user(token: token) }) else {
                throw APIError(.unauthorized, "the token is not valid")
            }
            cache.remember(token, found)
            user = found
        }
        if let wait = limiter.take(user.id) {
            var response = JSONResponse.make(["error": "\(user.name) made too many requests: try again in \(Int(wait.rounded(.up))) s"],
                                             status: .tooManyRequests)
            response.headers[.retryAfter] = "\(Int(wait.rounded(.up)))"
            return response
        }
        var context = context
        context.user = user
        return try await next(request, context)
    }
}

/// Tokens recognised in the last ``lifetime`` seconds.
final class TokenCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (user: StoredUser, until: Double)] = [:]
    let lifetime = 30.0

    func user(_ token: String) -> StoredUser? {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = entries[token], entry.until > ProcessInfo.processInfo.systemUptime else { return nil }
        return entry.user
    }

    func remember(_ token: String, _ user: StoredUser) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count > 10_000 { entries.removeAll() }
        entries[token] = (user, ProcessInfo.processInfo.systemUptime + lifetime)
    }
}
