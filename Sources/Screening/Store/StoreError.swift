/// What can go wrong with the screening store. Every one names the store (a file path or a
/// URL without its password) and is raised before any photo is worked on, except
/// ``failed(location:operation:reason:)`` during a run.
public enum StoreError: Error, CustomStringConvertible, Equatable, Sendable {
    /// `--db` is not `PATH`, `sqlite:PATH` or `postgres://user@host:port/db`.
    case invalidURL(String, reason: String)
    /// The database cannot be opened or reached (the driver's reason).
    case unreachable(location: String, reason: String)
    /// The store was written by a newer Rubble (its schema version is above this build's).
    case newerSchema(location: String, found: Int, known: Int)
    /// A stream-wide setting differs from the one the store was started with.
    case settingMismatch(location: String, key: String, stored: String, requested: String)
    /// The model's fingerprint is known with other class names (a corrupt or hand-edited store).
    case modelMismatch(location: String, fingerprint: String, reason: String)
    /// A statement failed (the operation and the driver's reason).
    case failed(location: String, operation: String, reason: String)
    /// A row holds a value this build cannot read (the table, the column, the value).
    case corruptRow(location: String, table: String, detail: String)

    /// `rubble users add` for a name the store already has.
    case userExists(location: String, name: String)
    /// A user name that is empty, too long, or has characters other than letters, digits and `._-@`.
    case invalidUserName(String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            return "--db \(url): \(reason) (give a file path, sqlite:PATH, or postgres://user@host:port/database)"
        case .unreachable(let location, let reason): return "\(location): cannot open the store (\(reason))"
        case .newerSchema(let location, let found, let known):
            return "\(location): the store has schema version \(found), written by a newer Rubble; this one knows "
                + "versions up to \(known): upgrade Rubble (nothing was changed)"
        case .settingMismatch(let location, let key, let stored, let requested):
            return "\(location): the store's \(key) is \(stored), this run asks for \(requested): every run and worker "
                + "of one store must agree (use another store, or \(stored))"
        case .modelMismatch(let location, let fingerprint, let reason):
            return "\(location): model \(fingerprint): \(reason)"
        case .failed(let location, let operation, let reason): return "\(location): \(operation) failed (\(reason))"
        case .corruptRow(let location, let table, let detail): return "\(location): table \(table): \(detail)"
        case .userExists(let location, let name): return "\(location): there is already a user \(name)"
        case .invalidUserName(let name):
            return "user name \(name.debugDescription): use 1 to 64 letters, digits, '.', '_', '-' or '@'"
        }
    }
}
