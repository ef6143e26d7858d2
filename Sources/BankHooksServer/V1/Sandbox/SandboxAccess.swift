import BankHooksCore
import BankHooksSandbox
import BankHooksStorage
import Hummingbird

/// The check every sandbox route makes after the role check: the caller's application must be a
/// sandbox one (a production application gets 403 `sandbox-only`).
struct SandboxAccess: Sendable {
    let store: any TenantStore

    /// The caller's application, when it may use the sandbox.
    func application(of principal: Principal) async throws -> BankHooksCore.Application {
        guard let application = try await store.application(id: principal.applicationID) else {
            throw Problem(.conflict, "application-deleted", title: "The application no longer exists",
                          detail: "application \(principal.applicationID) was deleted")
        }
        guard application.environment == .sandbox else {
            throw SandboxError(.sandboxOnly, "application \(application.id) is a production application; the sandbox bank serves sandbox applications only")
        }
        return application
    }

    /// The role check, then the sandbox check: the caller's application id.
    func require(_ roles: Set<Role>, to action: String, context: AppRequestContext) async throws -> BankHooksCore.Application {
        let principal = try context.require(roles, to: action)
        return try await application(of: principal)
    }
}

/// Checks on client-given texts shared by the sandbox routes.
enum SandboxInput {
    /// A query filter or id: 1 to `maxLength` bytes, no control characters.
    static func text(_ value: String, maxLength: Int = 255) -> Bool {
        !value.isEmpty && value.utf8.count <= maxLength && !value.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// A query parameter checked with `text`; nil when absent, a 400 naming it when invalid.
    static func query(_ parameters: Parameters, _ name: String) throws -> String? {
        guard let value = try single(parameters, name) else { return nil }
        guard text(value) else { throw PageQuery.invalid(name, "`\(name)` must be 1 to 255 bytes without control characters") }
        return value
    }
}

/// Names the path parameter of a `notFound` that does not say where it is (`path:<name>`).
func namingPath<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch var error as SandboxError where error.code == .notFound && error.pointer == nil {
        error.pointer = "path:\(name)"
        throw error
    }
}

extension Decoder {
    /// `rejectUnknownMembers`, answering a value that is not an object with "expected an object"
    /// at its place (not the decoder's own wording).
    func sandboxObject(_ allowed: Set<String>) throws {
        do {
            try rejectUnknownMembers(allowed)
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.count == codingPath.count {
            let pointer = "/" + codingPath.map { $0.intValue.map(String.init) ?? Problem.snakeCase($0.stringValue) }.joined(separator: "/")
            throw Problem.invalidField(pointer, "expected an object")
        }
    }
}

extension SandboxInput {
    /// A query parameter given at most once (a repeat would be read as its first value).
    static func single(_ parameters: Parameters, _ name: String) throws -> String? {
        guard parameters.getAll(name).count <= 1 else { throw PageQuery.invalid(name, "`\(name)` may be given once") }
        return parameters.get(name)
    }
}
