import BankHooksCore
import Foundation
import GRDB

/// The Yapily facade's credentials, users and request kinds (`YapilyStore`).
extension SQLiteStore {
    public func replaceYapilyCredential(_ credential: YapilyCredential) async throws {
        try await pool.write { db in
            do {
                try db.execute(
                    sql: """
                        INSERT INTO yapily_credentials (id, application_id, secret_hash, created_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (application_id) DO UPDATE SET id = excluded.id, secret_hash = excluded.secret_hash, created_at = excluded.created_at
                        """,
                    arguments: [credential.id, credential.applicationID, Data(credential.secretHash), credential.createdAt.milliseconds])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
                throw StoreError(.notFound, "no application \(credential.applicationID)")
            }
        }
    }

    public func yapilyCredential(id: String) async throws -> YapilyCredential? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM yapily_credentials WHERE id = ?", arguments: [id]).map { row in
                YapilyCredential(
                    id: row["id"], applicationID: row["application_id"], secretHash: Array(row["secret_hash"] as Data),
                    createdAt: Timestamp(milliseconds: row["created_at"]))
            }
        }
    }

    public func createYapilyUser(_ user: YapilyUser, limit: Int) async throws {
        try await pool.write { db in
            try Self.insertYapilyUser(user, limit: limit, db)
        }
    }

    public func yapilyUser(findingOrCreating user: YapilyUser, limit: Int) async throws -> YapilyUser {
        try await pool.write { db in
            if let existing = try Self.yapilyUser(
                db, "application_id = ? AND application_user_id = ?", [user.applicationID, user.applicationUserID])
            {
                return existing
            }
            try Self.insertYapilyUser(user, limit: limit, db)
            return user
        }
    }

    public func yapilyUser(uuid: String, applicationID: String) async throws -> YapilyUser? {
        try await pool.read { db in try Self.yapilyUser(db, "uuid = ? AND application_id = ?", [uuid, applicationID]) }
    }

    public func yapilyUsers(applicationID: String, applicationUserID: String?) async throws -> [YapilyUser] {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: """
                    SELECT * FROM yapily_users WHERE application_id = ? AND (? IS NULL OR application_user_id = ?)
                    ORDER BY created_at, uuid
                    """, arguments: [applicationID, applicationUserID, applicationUserID])
            return rows.map(Self.yapilyUser(from:))
        }
    }

    public func deleteYapilyUser(uuid: String, applicationID: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM yapily_users WHERE uuid = ? AND application_id = ?", arguments: [uuid, applicationID])
            return db.changesCount > 0
        }
    }

    public func recordYapilyRequest(authorisationID: String, applicationID: String, kind: YapilyRequestKind) async throws {
        try await pool.write { db in
            do {
                try db.execute(
                    sql: "INSERT INTO yapily_requests (authorisation_id, application_id, kind) VALUES (?, ?, ?)",
                    arguments: [authorisationID, applicationID, kind.rawValue])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
                throw StoreError(.notFound, "no authorisation \(authorisationID)")
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError(.conflict, "authorisation \(authorisationID) has a Yapily request already")
            }
        }
    }

    public func yapilyRequestKinds(authorisationIDs: [String], applicationID: String) async throws -> [String: YapilyRequestKind] {
        guard !authorisationIDs.isEmpty else { return [:] }
        return try await pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: """
                    SELECT authorisation_id, kind FROM yapily_requests
                    WHERE application_id = ? AND authorisation_id IN (SELECT value FROM json_each(?))
                    """, arguments: [applicationID, Self.jsonArray(Set(authorisationIDs))])
            var kinds: [String: YapilyRequestKind] = [:]
            for row in rows { kinds[row["authorisation_id"]] = YapilyRequestKind(rawValue: row["kind"]) }
            return kinds
        }
    }

    // MARK: Rows

    static func insertYapilyUser(_ user: YapilyUser, limit: Int, _ db: Database) throws {
        try checkQuota(db, count: "SELECT COUNT(*) FROM yapily_users WHERE application_id = ?", [user.applicationID], limit: limit) {
            "the application has \($0) Yapily users"
        }
        do {
            try db.execute(
                sql: "INSERT INTO yapily_users (uuid, application_id, application_user_id, reference_id, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [user.uuid, user.applicationID, user.applicationUserID, user.referenceID, user.createdAt.milliseconds])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
            throw StoreError(.notFound, "no application \(user.applicationID)")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StoreError(.conflict, "a user with applicationUserId \(user.applicationUserID) exists")
        }
    }

    static func yapilyUser(_ db: Database, _ condition: String, _ arguments: StatementArguments) throws -> YapilyUser? {
        try Row.fetchOne(db, sql: "SELECT * FROM yapily_users WHERE \(condition)", arguments: arguments).map(yapilyUser(from:))
    }

    static func yapilyUser(from row: Row) -> YapilyUser {
        YapilyUser(
            uuid: row["uuid"], applicationID: row["application_id"], applicationUserID: row["application_user_id"],
            referenceID: row["reference_id"], createdAt: Timestamp(milliseconds: row["created_at"]))
    }
}
