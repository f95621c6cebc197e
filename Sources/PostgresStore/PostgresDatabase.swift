import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Screening

/// The screening store on PostgreSQL, for several machines working one stream: one connection
/// per process through postgres-nio. The store's calls are synchronous (the screen loop is); each
/// statement runs on the connection's event loop and the caller waits for it.
///
/// Exclusive transactions take `pg_advisory_xact_lock` (released at commit or rollback): the
/// one serialised decision point for duplicates and arrivals. Claims are not exclusive: they
/// lock their rows with `FOR UPDATE SKIP LOCKED`, so workers never wait for one another there.
public final class PostgresDatabase: SQLDatabase, @unchecked Sendable {
    public let dialect = SQLDialect.postgres
    public let location: String
    private let connection: PostgresConnection
    private let logger = Logger(label: "rubble.store.postgres")
    /// The advisory lock key of the store's decision point ("rubble" in ASCII).
    static let lockKey: Int64 = 0x7275_6262_6c65

    /// Connects to `url` (`postgres://user[:password]@host[:port]/database`; a password may also
    /// come from `PGPASSWORD`). Throws ``StoreError/unreachable(location:reason:)`` when it cannot.
    public init(url: String) throws {
        let parsed = try PostgresURL(url)
        location = parsed.shown
        var configuration = PostgresConnection.Configuration(host: parsed.host, port: parsed.port, username: parsed.user,
                                                             password: parsed.password, database: parsed.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        do {
            connection = try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                        id: 1, logger: logger).wait()
        } catch {
            throw StoreError.unreachable(location: parsed.shown, reason: Self.reason(error))
        }
    }

    public func transaction<T>(exclusive: Bool, _ body: (any SQLExecutor) throws -> T) throws -> T {
        let executor = Executor(connection: connection, logger: logger)
        try executor.execute("BEGIN", [])
        do {
            if exclusive { _ = try executor.query("SELECT pg_advisory_xact_lock(?)", [.integer(Self.lockKey)]) }
            let result = try body(executor)
            try executor.execute("COMMIT", [])
            return result
        } catch {
            try? executor.execute("ROLLBACK", [])
            throw error
        }
    }

    private var closed = false

    public func close() {
        guard !closed else { return }
        closed = true
        try? connection.close().wait()
    }

    deinit { close() }

    static func reason(_ error: Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// Runs one statement and waits for its rows.
    private struct Executor: SQLExecutor {
        let connection: PostgresConnection
        let logger: Logger

        func execute(_ sql: String, _ values: [SQLValue]) throws { _ = try query(sql, values) }

        func query(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
            var bindings = PostgresBindings(capacity: values.count)
            for value in values {
                switch value {
                case .null: bindings.appendNull()
                case .integer(let v): bindings.append(v)
                case .real(let v): bindings.append(v)
                case .text(let v): bindings.append(v)
                case .bytes(let v): bindings.append(ByteBuffer(bytes: v))
                }
            }
            let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: bindings)
            let connection = self.connection, logger = self.logger
            let box = ResultBox()
            let done = DispatchSemaphore(value: 0)
            Task {
                do {
                    var rows: [SQLRow] = []
                    for try await row in try await connection.query(query, logger: logger) {
                        rows.append(SQLRow(try row.map(Self.value)))
                    }
                    box.result = .success(rows)
                } catch {
                    box.result = .failure(error)
                }
                done.signal()
            }
            done.wait()
            switch box.result {
            case .success(let rows)?: return rows
            case .failure(let error)?: throw StoreError.failed(location: "postgres", operation: Self.summary(sql), reason: PostgresDatabase.reason(error))
            case nil: return []
            }
        }

        static func summary(_ sql: String) -> String {
            String(sql.split(whereSeparator: \.isWhitespace).prefix(6).joined(separator: " "))
        }

        static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
            case .float4, .float8, .numeric: return .real(try cell.decode(Double.self))
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            case .bytea:
                var buffer = try cell.decode(ByteBuffer.self)
                return .bytes(buffer.readBytes(length: buffer.readableBytes) ?? [])
            default: return .text(try cell.decode(String.self))
            }
        }

        /// `?` placeholders as PostgreSQL's `$1, $2, ...` (outside quoted text).
        static func numbered(_ sql: String) -> String {
            var out = "", n = 0, quoted = false
            for c in sql {
                if c == "'" { quoted.toggle() }
                if c == "?" && !quoted {
                    n += 1
                    out += "$\(n)"
                } else {
                    out.append(c)
                }
            }
            return out
        }
    }

    private final class ResultBox: @unchecked Sendable {
        var result: Result<[SQLRow], Error>?
    }
}

/// `postgres://user[:password]@host[:port]/database`.
struct PostgresURL {
    var user: String
    var password: String?
    var host: String
    var port: Int
    var database: String
    /// The URL without its password, for messages.
    var shown: String

    init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
              scheme == "postgres" || scheme == "postgresql" else {
            throw StoreError.invalidURL(text, reason: "not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else { throw StoreError.invalidURL(text, reason: "no host") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw StoreError.invalidURL(text, reason: "no database name after the host") }
        guard let user = components.user, !user.isEmpty else { throw StoreError.invalidURL(text, reason: "no user name (user@host)") }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw StoreError.invalidURL(text, reason: "port \(port) is not in 1...65535") }
        self.user = user
        self.password = components.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        self.host = host
        self.port = port
        self.database = database
        shown = "postgres://\(user)@\(host):\(port)/\(database)"
    }
}
