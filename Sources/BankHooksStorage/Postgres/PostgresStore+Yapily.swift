import BankHooksCore
import Foundation
import PostgresNIO

/// The Yapily facade's credentials, users and request kinds (`SQLiteStore+Yapily.swift` is the reference).
extension PostgresStore: YapilyStore {
    public func replaceYapilyCredential(_ credential: YapilyCredential) async throws {
        do {
            _ = try await rows("""
                INSERT INTO yapily_credentials (id, application_id, secret_hash, created_at)
                VALUES (\(credential.id), \(credential.applicationID), \(Data(credential.secretHash)), \(credential.createdAt.milliseconds))
                ON CONFLICT (application_id) DO UPDATE SET id = EXCLUDED.id, secret_hash = EXCLUDED.secret_hash, created_at = EXCLUDED.created_at
                """)
        } catch let error where Self.isForeignKeyViolation(error) {
            throw StoreError(.notFound, "no application \(credential.applicationID)")
        }
    }

    public func yapilyCredential(id: String) async throws -> YapilyCredential? {
        try await rows("SELECT * FROM yapily_credentials WHERE id = \(id)").first.map { row in
            YapilyCredential(
                id: try row("id"), applicationID: try row("application_id"), secretHash: Array(try row.data("secret_hash")),
                createdAt: try row.timestamp("created_at"))
        }
    }

    public func createYapilyUser(_ user: YapilyUser, limit: Int) async throws {
        try await transaction { connection in
            try await insertYapilyUser(user, limit: limit, on: connection)
        }
    }

    public func yapilyUser(findingOrCreating user: YapilyUser, limit: Int) async throws -> YapilyUser {
        // Under the application's row lock (`checkQuota`), so two requests for one new id make one user.
        try await transaction { connection in
            try await connection.run("SELECT 1 FROM applications WHERE id = \(user.applicationID) FOR NO KEY UPDATE", logger: logger)
            if let existing = try await connection.row("""
                SELECT * FROM yapily_users WHERE application_id = \(user.applicationID) AND application_user_id = \(user.applicationUserID)
                """, logger: logger)
            {
                return try Self.yapilyUser(from: existing)
            }
            try await insertYapilyUser(user, limit: limit, on: connection)
            return user
        }
    }

    public func yapilyUser(uuid: String, applicationID: String) async throws -> YapilyUser? {
        try await rows("SELECT * FROM yapily_users WHERE uuid = \(uuid) AND application_id = \(applicationID)").first.map(Self.yapilyUser(from:))
    }

    public func yapilyUsers(applicationID: String, applicationUserID: String?) async throws -> [YapilyUser] {
        try await rows("""
            SELECT * FROM yapily_users WHERE application_id = \(applicationID)
            AND (\(applicationUserID)::text IS NULL OR application_user_id = \(applicationUserID)) ORDER BY created_at, uuid
            """).map(Self.yapilyUser(from:))
    }

    public func deleteYapilyUser(uuid: String, applicationID: String) async throws -> Bool {
        try await rows("DELETE FROM yapily_users WHERE uuid = \(uuid) AND application_id = \(applicationID) RETURNING uuid").isEmpty == false
    }

    public func recordYapilyRequest(authorisationID: String, applicationID: String, kind: YapilyRequestKind) async throws {
        do {
            _ = try await rows("""
                INSERT INTO yapily_requests (authorisation_id, application_id, kind) VALUES (\(authorisationID), \(applicationID), \(kind.rawValue))
                """)
        } catch let error where Self.isForeignKeyViolation(error) {
            throw StoreError(.notFound, "no authorisation \(authorisationID)")
        } catch let error where Self.isUniqueViolation(error) {
            throw StoreError(.conflict, "authorisation \(authorisationID) has a Yapily request already")
        }
    }

    public func yapilyRequestKinds(authorisationIDs: [String], applicationID: String) async throws -> [String: YapilyRequestKind] {
        guard !authorisationIDs.isEmpty else { return [:] }
        var kinds: [String: YapilyRequestKind] = [:]
        for row in try await rows("""
            SELECT authorisation_id, kind FROM yapily_requests
            WHERE application_id = \(applicationID) AND authorisation_id = ANY(\(authorisationIDs))
            """)
        {
            kinds[try row("authorisation_id")] = YapilyRequestKind(rawValue: try row("kind"))
        }
        return kinds
    }

    // MARK: Rows

    func insertYapilyUser(_ user: YapilyUser, limit: Int, on connection: PostgresConnection) async throws {
        do {
            try await Self.checkQuota(
                applicationID: user.applicationID, limit: limit,
                count: "SELECT COUNT(*) AS count FROM yapily_users WHERE application_id = \(user.applicationID)", on: connection, logger: logger
            ) { "the application has \($0) Yapily users" }
            try await connection.run("""
                INSERT INTO yapily_users (uuid, application_id, application_user_id, reference_id, created_at)
                VALUES (\(user.uuid), \(user.applicationID), \(user.applicationUserID), \(user.referenceID), \(user.createdAt.milliseconds))
                """, logger: logger)
        } catch let error where Self.isForeignKeyViolation(error) {
            throw StoreError(.notFound, "no application \(user.applicationID)")
        } catch let error where Self.isUniqueViolation(error) {
            throw StoreError(.conflict, "a user with applicationUserId \(user.applicationUserID) exists")
        }
    }

    static func yapilyUser(from row: StoredRow) throws -> YapilyUser {
        YapilyUser(
            uuid: try row("uuid"), applicationID: try row("application_id"), applicationUserID: try row("application_user_id"),
            referenceID: try row("reference_id"), createdAt: try row.timestamp("created_at"))
    }
}
