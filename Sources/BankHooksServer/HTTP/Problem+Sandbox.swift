import BankHooksSandbox
import Hummingbird

extension Problem {
    /// The answer to a request the sandbox bank refused: the problem `type` is the code's raw value.
    init(_ error: SandboxError) {
        let status: HTTPResponse.Status
        let title: String
        switch error.code {
        case .invalidField:
            self = .invalidField(error.pointer ?? "/", error.message)
            return
        case .notFound: (status, title) = (.notFound, "Not found")
        case .institutionUnavailable: (status, title) = (.unprocessableContent, "The institution is unavailable")
        case .authorisationCompleted: (status, title) = (.conflict, "The authorisation was completed already")
        case .authorisationExpired: (status, title) = (.conflict, "The authorisation has expired")
        case .stateMismatch: (status, title) = (.forbidden, "The state does not match the authorisation")
        case .wrongPassword: (status, title) = (.unprocessableContent, "The username or password submitted was incorrect")
        case .invalidOneTimeToken: (status, title) = (.badRequest, "The one-time token is not valid")
        case .consentInvalid: (status, title) = (.forbidden, "The consent token is not valid")
        case .sandboxOnly: (status, title) = (.forbidden, "The sandbox is for sandbox applications only")
        }
        self.init(status, error.code.rawValue, title: title, detail: error.message, field: error.pointer)
    }
}

/// Turns a `SandboxError` thrown by a sandbox route into its problem, for the problem middleware
/// outside it to answer (which maps every other error). Mounted on the sandbox's /v1 routes.
struct SandboxProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as SandboxError {
            throw Problem(error)
        }
    }
}
