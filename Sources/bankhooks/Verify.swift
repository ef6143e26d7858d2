import ArgumentParser
import BankHooksVerify
import Foundation

/// `bankhooks verify`: checks a saved request (request line, headers, empty line, raw body) the
/// way a receiver would, and names the event it carries.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a saved webhook request's signature.",
        discussion: """
            The file holds the request as received: an optional request line (POST /path HTTP/1.1), \
            the headers, an empty line, then the body byte for byte. Prints \
            `valid: <format> <type> <event id>` and exits 0, or prints `invalid: <reason>` to \
            standard error and exits 1.
            """)

    @Option(name: .long, help: ArgumentHelp("The webhook's format.", valueName: "standard|lean|okra|bridge"))
    var format = "standard"

    @Option(name: .customLong("secret"), help: ArgumentHelp(
        "A webhook secret (repeatable; valid if any verifies). Standard and okra: whsec_…; lean and bridge: the secret text as shown.",
        valueName: "secret"))
    var secrets: [String] = []

    @Option(name: .long, help: "Okra: the bearer token the Authorization header must carry.")
    var token: String?

    @Option(name: .long, help: "Seconds the webhook-timestamp may differ from now (standard, okra).")
    var tolerance = 300

    @Option(name: .long, help: ArgumentHelp("Check the timestamp against this time instead of now, to replay an old capture.", valueName: "unix seconds"))
    var now: Double?

    @Argument(help: ArgumentHelp("The saved request, or - for standard input.", valueName: "path"))
    var path: String

    func validate() throws {
        guard WebhookVerifier.formats.contains(format) else {
            throw ValidationError("--format must be one of \(WebhookVerifier.formats.joined(separator: ", ")), not \(format)")
        }
        if format == "okra" {
            guard token != nil || !secrets.isEmpty else {
                throw ValidationError("okra signs nothing: give --token, --secret, or both")
            }
        } else if secrets.isEmpty {
            throw ValidationError("--secret is required for format \(format)")
        }
        guard tolerance >= 0 else { throw ValidationError("--tolerance must not be negative") }
    }

    func run() throws {
        let saved: [UInt8]
        do {
            if path == "-" {
                saved = Array(FileHandle.standardInput.readDataToEndOfFile())
            } else {
                saved = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            }
        } catch {
            throw Self.invalid("cannot read \(path == "-" ? "standard input" : path): \(error.localizedDescription)")
        }

        let request: WebhookRequest
        let envelope: EventEnvelope
        do {
            request = try WebhookRequest.parse(saved: saved)
            let clock = now.map { Date(timeIntervalSince1970: $0) } ?? Date()
            try WebhookVerifier.verify(
                format: format, request, secrets: secrets, token: token, now: clock, tolerance: TimeInterval(tolerance))
        } catch {
            throw Self.invalid("\(error)")
        }
        do {
            envelope = try EventDecoder.envelope(format: format, body: request.body, headers: request.headers)
            if EventCatalog.builtIn[envelope.type] != nil {
                _ = try EventDecoder.decode(format: format, request)
            }
        } catch {
            throw Self.invalid("the signature is valid, but \(error)")
        }
        print("valid: \(format) \(envelope.type) \(envelope.eventID ?? "-")")
    }

    /// Prints `invalid: <reason>` to standard error and returns the exit code to throw.
    private static func invalid(_ reason: String) -> ExitCode {
        try? FileHandle.standardError.write(contentsOf: Data("invalid: \(reason)\n".utf8))
        return ExitCode(1)
    }
}
