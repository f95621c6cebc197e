import Digest
import Foundation

/// What an account of `rubble serve` may do. Each role can do what the one before it can.
public enum UserRole: String, Sendable, CaseIterable, Comparable {
    /// Sends photos and reads back their status.
    case uploader
    /// Also sees every photo, its panels and locations, and gives verdicts.
    case verifier
    /// Also sees the team's figures and exports.
    case admin

    private var rank: Int {
        switch self {
        case .uploader: return 0
        case .verifier: return 1
        case .admin: return 2
        }
    }

    public static func < (a: UserRole, b: UserRole) -> Bool { a.rank < b.rank }
}

/// An account as a request sees it once its token is recognised.
public struct StoredUser: Sendable, Equatable {
    public var id: Int
    public var name: String
    public var role: UserRole
}

extension ScreeningStore {
    /// Adds user `name` with `role` and returns its bearer token: 32 random bytes (from the
    /// system's generator) in hex after `rbl_`. Only the token's SHA-256 is stored, so the
    /// token is shown once and cannot be read back.
    public func addUser(name: String, role: UserRole) throws -> String {
        guard (1...64).contains(name.utf8.count),
              name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-@".unicodeScalars.contains($0)) })
        else { throw StoreError.invalidUserName(name) }
        var generator = SystemRandomNumberGenerator()
        let token = "rbl_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        try write("adding user \(name)", exclusive: true) { db in
            if try db.scalar("SELECT id FROM users WHERE name = ?", [.text(name)]) != nil {
                throw StoreError.userExists(location: location, name: name)
            }
            try db.execute("INSERT INTO users (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)",
                           [.text(name), .text(role.rawValue), .text(Self.tokenHash(token)), .text(StoreClock.timestamp())])
        }
        return token
    }

    /// The user whose token this is, or nil.
    public func user(token: String) throws -> StoredUser? {
        guard token.utf8.count <= 256 else { return nil }
        return try read("recognising a token") { db in
            guard let row = try db.query("SELECT id, name, role FROM users WHERE token_hash = ?", [.text(Self.tokenHash(token))]).first,
                  let id = row.int(0), let name = row.text(1), let role = row.text(2).flatMap(UserRole.init(rawValue:)) else { return nil }
            return StoredUser(id: id, name: name, role: role)
        }
    }

    /// Every user, by name.
    public func users() throws -> [(name: String, role: String, createdAt: String)] {
        try read("reading the users") { db in
            try db.query("SELECT name, role, created_at FROM users ORDER BY name").map { ($0.text(0) ?? "", $0.text(1) ?? "", $0.text(2) ?? "") }
        }
    }

    static func tokenHash(_ token: String) -> String { SHA256.hash(Data(token.utf8)).hex }
}
