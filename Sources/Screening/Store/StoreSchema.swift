/// The store's schema: one list of versioned migrations, written once for both dialects.
///
/// Tables (every write goes through ``ScreeningStore`` in a transaction):
/// - `migrations(version, applied_at)`: the versions applied; a store whose highest version is
///   above ``StoreSchema/version`` was written by a newer Rubble and is refused before any work.
/// - `settings(key, value)`: stream-wide choices fixed by the first run (the duplicate radius:
///   decisions are only consistent if every worker uses the same one).
/// - `models(id, fingerprint, description, class_names, created_at)`: a model is its
///   fingerprint (architecture, input, preprocessing, classes, weights digest); results are per model.
/// - `runs(id, model_id, folder, options, host, pid, started_at, finished_at)`: each `rubble
///   screen` (or `worker`) invocation; `options` is the JSON a worker reads the run's
///   threshold, positive class and minimum size from.
/// - `photos(id, path, path_bytes, file_path, digest, size, source, taken_at, latitude,
///   longitude, orientation, image, problem, follows_links, added_at)`: one row per arrival of a (path,
///   digest); `id` is the arrival order every duplicate decision follows. `path` is the shown
///   form (``FileName/escape(_:)``), `path_bytes` the name's bytes, `file_path` what a worker
///   opens (absolute; empty for an upload, whose bytes are in `images`), `image` unused (NULL).
/// - `preparations(photo_id, outcome, phash, width, height, message, may_change)`: what reading,
///   decoding and hashing found (`ready`, `copy`, `too_small`, `failed`).
/// - `decisions(photo_id, kind, representative_id, representative_index, distance)`: the
///   duplicate decision (`unique`, `exact`, `near`, `none`), made once per photo in `id` order.
/// - `jobs(id, photo_id, model_id, run_id, state, worker, lease_until, attempts)`: the queue
///   (`queued`, `claimed` under a lease, `done`); one job per photo and model.
/// - `results(photo_id, model_id, status, error_kind, probabilities, label, flagged, relevance,
///   severity, severity_summary, milliseconds, error, worker, finished_at)`: the final answer,
///   written in the same transaction that marks its job done.
/// - `panels(photo_id, model_id, kind, png)`: Grad-CAM (`gradcam`) and severity (`segment`)
///   panels, so any machine's export can write them.
/// - `verdicts(id, photo_id, label, verifier, created_at)`: human verification.
/// - `workers(name, host, pid, model_id, started_at, last_seen, photos, busy_seconds)`: progress
///   and throughput of each worker.
/// - `users(id, name, role, token_hash, created_at)` (version 2): the accounts of `rubble serve`;
///   only the SHA-256 of a token is kept; `photos.uploader` (version 2) names who uploaded a photo;
///   `images(digest, bytes)` (version 2) holds uploaded photos' bytes, once per digest.
public enum StoreSchema {
    /// The highest migration this build knows.
    public static let version = 2

    struct Migration: Sendable {
        let version: Int
        let statements: @Sendable (SQLDialect) -> [String]
    }

    static let migrations: [Migration] = [
        Migration(version: 1) { d in
            [
                "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                """
                CREATE TABLE models (id \(d.serialKey), fingerprint TEXT NOT NULL UNIQUE, description TEXT NOT NULL,
                  class_names TEXT NOT NULL, created_at TEXT NOT NULL)
                """,
                """
                CREATE TABLE runs (id \(d.serialKey), model_id BIGINT NOT NULL REFERENCES models(id), folder TEXT NOT NULL,
                  options TEXT NOT NULL, host TEXT NOT NULL, pid BIGINT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT)
                """,
                """
                CREATE TABLE photos (id \(d.serialKey), path TEXT NOT NULL, path_bytes \(d.bytes) NOT NULL,
                  file_path \(d.bytes) NOT NULL, digest TEXT NOT NULL, size BIGINT, source TEXT, taken_at TEXT,
                  latitude \(d.double), longitude \(d.double), orientation INTEGER, image \(d.bytes), problem TEXT, follows_links INTEGER NOT NULL,
                  added_at TEXT NOT NULL, UNIQUE (path_bytes, digest))
                """,
                "CREATE INDEX photos_digest ON photos (digest)",
                """
                CREATE TABLE preparations (photo_id BIGINT PRIMARY KEY REFERENCES photos(id), outcome TEXT NOT NULL,
                  phash TEXT, width INTEGER, height INTEGER, message TEXT, may_change INTEGER NOT NULL)
                """,
                """
                CREATE TABLE decisions (photo_id BIGINT PRIMARY KEY REFERENCES photos(id), kind TEXT NOT NULL,
                  representative_id BIGINT, representative_index BIGINT, distance INTEGER)
                """,
                """
                CREATE TABLE jobs (id \(d.serialKey), photo_id BIGINT NOT NULL REFERENCES photos(id),
                  model_id BIGINT NOT NULL REFERENCES models(id), run_id BIGINT NOT NULL REFERENCES runs(id),
                  state TEXT NOT NULL, worker TEXT, lease_until \(d.double), attempts INTEGER NOT NULL,
                  UNIQUE (photo_id, model_id))
                """,
                "CREATE INDEX jobs_queue ON jobs (model_id, state, photo_id)",
                """
                CREATE TABLE results (photo_id BIGINT NOT NULL REFERENCES photos(id), model_id BIGINT NOT NULL REFERENCES models(id),
                  status TEXT NOT NULL, error_kind TEXT, probabilities TEXT, label TEXT, flagged INTEGER NOT NULL,
                  relevance \(d.double), severity \(d.double), severity_summary TEXT, milliseconds \(d.double) NOT NULL,
                  error TEXT, worker TEXT NOT NULL, finished_at TEXT NOT NULL, PRIMARY KEY (photo_id, model_id))
                """,
                """
                CREATE TABLE panels (photo_id BIGINT NOT NULL REFERENCES photos(id), model_id BIGINT NOT NULL REFERENCES models(id),
                  kind TEXT NOT NULL, png \(d.bytes) NOT NULL, PRIMARY KEY (photo_id, model_id, kind))
                """,
                """
                CREATE TABLE verdicts (id \(d.serialKey), photo_id BIGINT NOT NULL REFERENCES photos(id), label TEXT NOT NULL,
                  verifier TEXT NOT NULL, created_at TEXT NOT NULL)
                """,
                "CREATE INDEX verdicts_photo ON verdicts (photo_id)",
                """
                CREATE TABLE workers (name TEXT PRIMARY KEY, host TEXT NOT NULL, pid BIGINT NOT NULL, model_id BIGINT,
                  started_at TEXT NOT NULL, last_seen TEXT NOT NULL, photos BIGINT NOT NULL, busy_seconds \(d.double) NOT NULL)
                """,
            ]
        },
        Migration(version: 2) { d in
            [
                """
                CREATE TABLE users (id \(d.serialKey), name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
                  token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL)
                """,
                "CREATE INDEX verdicts_verifier ON verdicts (verifier)",
                "ALTER TABLE photos ADD COLUMN uploader TEXT",
                // Outside `photos`: SQLite would walk a blob's overflow pages to reach the columns after it.
                "CREATE TABLE images (digest TEXT PRIMARY KEY, bytes \(d.bytes) NOT NULL)",
            ]
        },
    ]

    /// Applies every migration above the store's version, each in its own exclusive
    /// transaction. Throws ``StoreError/newerSchema(location:found:known:)`` for a store written
    /// by a newer Rubble, before changing anything.
    static func migrate(_ database: any SQLDatabase) throws {
        try database.transaction(exclusive: true) { db in
            try db.execute("CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        }
        let current = try database.transaction(exclusive: true) { db in
            try db.scalar("SELECT MAX(version) FROM migrations")?.int ?? 0
        }
        guard current <= version else {
            throw StoreError.newerSchema(location: database.location, found: current, known: version)
        }
        for migration in migrations where migration.version > current {
            try database.transaction(exclusive: true) { db in
                // Another process may have applied it between the two transactions.
                let now = try db.scalar("SELECT MAX(version) FROM migrations")?.int ?? 0
                guard now < migration.version else { return }
                for statement in migration.statements(database.dialect) { try db.execute(statement) }
                try db.execute("INSERT INTO migrations (version, applied_at) VALUES (?, ?)",
                               [SQLValue(migration.version), .text(StoreClock.timestamp())])
            }
        }
    }
}
