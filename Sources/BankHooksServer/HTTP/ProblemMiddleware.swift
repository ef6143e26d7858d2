import BankHooksCore
import BankHooksDelivery
import BankHooksStorage
import Hummingbird
import Logging
import NIOCore

extension Problem {
    /// The one place an error becomes the problem the API answers with: a `Problem` as it is, a
    /// domain error (event service, JSON syntax, body shape, a full dispatcher, shutdown, an
    /// oversized body) by its meaning, another HTTP error with its status. Nil for an error nobody
    /// expected, which the caller logs and answers as a 500 that says nothing of the internals.
    /// Handlers throw domain errors as they are; a call site maps one itself only when the answer
    /// depends on what it was doing (which quota, which field).
    static func mapping(_ error: any Error, method: HTTPRequest.Method, path: String, maxUploadSize: Int) -> Problem? {
        switch error {
        case let problem as Problem:
            return problem
        case let error as EventError:
            return Problem(error)
        case let error as JSONSyntaxError:
            return .malformedJSON(error)
        case let error as DecodingError:
            return .decoding(error)
        case let error as DispatcherBusyError:
            // A send a client waits for ("Send a test", a resend) found the webhook's in-flight bound full.
            var problem = Problem(.tooManyRequests, "webhook-busy", title: "The webhook has no free in-flight slot", detail: "\(error); try again shortly")
            problem.headers[.retryAfter] = "1"
            return problem
        case let error as StoreError where error.code == .invalidValue:
            // A value the store cannot keep that no validator caught (a NUL character in a text, which
            // PostgreSQL's text cannot hold): the client's input, not a server failure.
            return Problem(.unprocessableContent, "invalid-value", title: "A value cannot be stored", detail: error.message)
        case let error as StoreUnavailableError:
            // The database went away under this request (a restart, a failover, a lost connection):
            // nothing it asked for was committed; another try (on this node or another) can succeed.
            var problem = Problem(.serviceUnavailable, "database-unavailable", title: "The database is unavailable", detail: "\(error); retry shortly")
            problem.headers[.retryAfter] = "1"
            return problem
        case is PublisherClosedError:
            return Problem(.serviceUnavailable, "shutting-down", title: "Shutting down", detail: "the server is shutting down; retry on another instance")
        case is NIOTooManyBytesError:
            return Problem(.contentTooLarge, "body-too-large", title: "The body is too large",
                           detail: "request bodies are limited to \(maxUploadSize) bytes", field: "/")
        case let error as any HTTPResponseError:
            let status = error.status
            let detail: String
            if let http = error as? HTTPError, let body = http.body {
                detail = body
            } else if status == .notFound {
                detail = "no route for \(method) \(path)"
            } else {
                detail = status.reasonPhrase
            }
            var problem = Problem(status, status == .notFound ? "not-found" : "http-\(status.code)", title: status.reasonPhrase, detail: detail)
            if let http = error as? HTTPError { problem.headers = http.headers }
            return problem
        default:
            return nil
        }
    }
}

/// Turns every error into problem+json through `Problem.mapping`; an unexpected error is logged
/// and answered as a 500. Mounted on `/v1` only: other routes (HTML pages) answer errors their own way.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            guard let problem = Problem.mapping(error, method: request.method, path: request.uri.path, maxUploadSize: context.maxUploadSize) else {
                context.logger.error("unhandled error", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
                return try Problem(.internalServerError, "internal", title: "Internal error", detail: "the server failed to handle this request; it has been logged")
                    .response(from: request, context: context)
            }
            return try problem.response(from: request, context: context)
        }
    }
}

/// The problem middleware for requests no route matched, limited to paths under `prefix`.
struct UnmatchedPathProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let prefix: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path == prefix || path.hasPrefix(prefix + "/") else { return try await next(request, context) }
        return try await ProblemMiddleware().handle(request, context: context, next: next)
    }
}
