import AsyncHTTPClient
import BankHooksCore
import BankHooksDemo
import BankHooksLoopback
import BankHooksServer
import Foundation
import Logging
import ServiceLifecycle

extension Benchmark {
    /// `--redirect N`: the sandbox bank's redirect under load. N authorisations are created up front
    /// and their consent pages opened (each GET sets the CSRF cookie and hidden fields), then
    /// `publishers` clients complete them concurrently through the consent form's POST (paced at
    /// `rate` per second when set), and each POST → 302 is timed: the time the redirect holds the
    /// user's browser, which commits the consent and schedules what the link sets off. The runner
    /// publishes those events meanwhile, as it would in production.
    public func runRedirect(authorisations count: Int) async throws {
        try await withDirectory("bankhooks-redirect") { dir in
            let logger = { var l = Logger(label: "bench"); l.logLevel = .error; return l }()
            // A receiver behind a Lean and a standard webhook: every link's events are delivered
            // while the redirects are measured, as on a platform whose customers listen.
            try await LoopbackReceiver.run(mode: .arrivals) { receiver in
                try await withSandboxServer(directory: dir, logger: logger) { api, http in
                    let callback = "http://127.0.0.1:9/bench/"
                    let patched = try await api.call(.PATCH, "/v1/applications/\(defaultApplicationID)", body: #"{"redirect_callbacks": ["\#(callback)"]}"#)
                    guard patched.status == 200 else { throw ConfigurationError("registering the callback failed: \(patched.status) \(patched.text)") }
                    for format in ["lean", "standard"] {
                        let reply = try await api.call(.POST, "/v1/webhooks", body: #"{"url": "\#(receiver.url("/hook/\(format)"))", "format": "\#(format)"}"#)
                        guard reply.status == 201 else { throw ConfigurationError("creating the \(format) webhook failed: \(reply.status) \(reply.text)") }
                    }
                    let institutions = try await api.call(.GET, "/v1/sandbox/institutions")
                    guard let list = institutions.json?["data"] as? [[String: Any]], let institution = list.first?["id"] as? String else {
                        throw ConfigurationError("no sandbox institution: \(institutions.status) \(institutions.text)")
                    }
                    say("redirect:  \(count) authorisations at \(institution), \(options.publishers) clients, "
                        + (options.rate > 0 ? "\(options.rate) completions/s offered" : "as fast as possible") + ", durability \(options.durability.rawValue)")

                    // Set-up (not the measured part, but timed): create them all, then open every consent page.
                    let form = ConsentFormClient(http: http)
                    var start = ContinuousClock.now
                    let urls = try await concurrently(count) { index -> String in
                        let body = #"{"institution_id": "\#(institution)", "application_user_id": "bench-\#(index)", "callback": "\#(callback)\#(index)"}"#
                        let reply = try await api.call(.POST, "/v1/authorisations", body: body)
                        guard reply.status == 201, let url = reply.json?["authorisation_url"] as? String else {
                            throw ConfigurationError("creating an authorisation failed: \(reply.status) \(reply.text)")
                        }
                        return url
                    }
                    say(String(format: "create:    %d authorisations in %.2f s = %.0f/s", count, (ContinuousClock.now - start).secondsDouble,
                               Double(count) / (ContinuousClock.now - start).secondsDouble))
                    start = ContinuousClock.now
                    let opens = Locked([Int64]())
                    let pages = try await concurrently(count) { index -> ConsentFormClient.Page in
                        let began = ContinuousClock.now
                        var page = try await form.open(urls[index])
                        let took = (ContinuousClock.now - began).microseconds
                        opens.withLock { $0.append(took) }
                        page.html = ""
                        return page
                    }
                    let openTimes = opens.value.sorted()
                    say(String(format: "page:      %d consent pages opened in %.2f s; GET p50 %@ p99 %@", count, (ContinuousClock.now - start).secondsDouble,
                               Quantiles.ms(openTimes, 0.5), Quantiles.ms(openTimes, 0.99)))

                    // The measured part: every form posted, each POST -> 302 timed.
                    let times = Locked([Int64]())
                    let serverTimes = Locked([Int64]())
                    let failures = Locked([String]())
                    let deliveredBefore = receiver.requestCount
                    start = ContinuousClock.now
                    let rate = options.rate
                    _ = try await concurrently(count, paced: rate, from: start) { index -> Bool in
                        let answer = try await form.submit(pages[index], username: "user", password: "user")
                        guard answer.status == 302, answer.location?.hasPrefix(callback + "\(index)?consent=") == true else {
                            failures.withLock { $0.append("\(answer.status) \(answer.location ?? answer.body.prefix(200).description)") }
                            return false
                        }
                        times.withLock { $0.append(answer.duration.microseconds) }
                        if let server = answer.serverTime { serverTimes.withLock { $0.append(server.microseconds) } }
                        return true
                    }
                    let elapsed = ContinuousClock.now - start
                    let delivered = receiver.requestCount - deliveredBefore
                    let sorted = times.value.sorted()
                    say(String(format: "redirect:  %d consent-form POSTs -> 302 (%d failed) in %.2f s = %.0f redirects/s", sorted.count, failures.value.count,
                               elapsed.secondsDouble, Double(sorted.count) / elapsed.secondsDouble))
                    say("latency:   POST -> 302 p50 \(Quantiles.ms(sorted, 0.5)) p90 \(Quantiles.ms(sorted, 0.9)) p99 \(Quantiles.ms(sorted, 0.99)) "
                        + "max \(Quantiles.ms(sorted, 1.0)) (measured by the client: an upper bound of the server's time)")
                    let server = serverTimes.value.sorted()
                    say("server:    POST -> 302 p50 \(Quantiles.ms(server, 0.5)) p90 \(Quantiles.ms(server, 0.9)) p99 \(Quantiles.ms(server, 0.99)) "
                        + "max \(Quantiles.ms(server, 1.0)) (the server's Server-Timing: the handler, the body read and the commit; \(server.count) answers)")
                    say(String(format: "webhooks:  %d deliveries of the links' events answered by the receiver meanwhile (%.0f/s, a Lean and a standard webhook)",
                               delivered, Double(delivered) / elapsed.secondsDouble))
                    if let first = failures.value.first { say("failures:  first of \(failures.value.count): \(first)") }
                    say("memory:    peak RSS \(Quantiles.peakRSSMegabytes()) MB")
                }
            }
        }
    }

    /// Runs `work` for each index 0..<count on `publishers` concurrent tasks, each taking the next
    /// index (started no earlier than `start` + index / `paced` seconds when `paced` > 0); returns
    /// the results by index.
    private func concurrently<T: Sendable>(
        _ count: Int, paced: Int = 0, from start: ContinuousClock.Instant = .now, _ work: @escaping @Sendable (Int) async throws -> T
    ) async throws -> [T] {
        let next = Locked(0)
        return try await withThrowingTaskGroup(of: [(Int, T)].self) { group in
            for _ in 0..<max(1, options.publishers) {
                group.addTask {
                    var done: [(Int, T)] = []
                    while true {
                        let index = next.withLock { n -> Int in defer { n += 1 }; return n }
                        guard index < count else { break }
                        if paced > 0 {
                            let due = start.advanced(by: .microseconds(Int64(index) * 1_000_000 / Int64(paced)))
                            if due > .now { try await Task.sleep(until: due, clock: .continuous) }
                        }
                        done.append((index, try await work(index)))
                    }
                    return done
                }
            }
            var results = [T?](repeating: nil, count: count)
            for try await part in group {
                for (index, value) in part { results[index] = value }
            }
            return results.compactMap { $0 }
        }
    }

    /// The server with the sandbox on its defaults, for the duration of `body`, which gets an API
    /// client with the operator key and an HTTP client that does not follow redirects.
    private func withSandboxServer(directory: String, logger: Logger, _ body: @Sendable (APIClient, HTTPClient) async throws -> Void) async throws {
        let adminKey = "bhk_bench_" + String(repeating: "r", count: 32)
        var configuration = ServerConfiguration()
        configuration.storage = storage(directory, "redirect.sqlite")
        configuration.port = 0
        configuration.adminKey = adminKey
        configuration.masterKey = SecretBox.generateKey()
        // The benchmark measures the redirect, not the per-key request limit.
        configuration.keyRateLimit = nil
        // The receiver of the links' events is on this machine.
        configuration.allowedDestinations = ["127.0.0.1/32"].compactMap { AddressRange($0) }
        let publishers = options.publishers
        try await LoopbackService.run(logger: logger, notStarted: ConfigurationError("the server did not start")) { listening in
            try await buildApplication(configuration, logger: logger, announce: { _ in }, onListening: { address in listening(address?.port ?? 0) })
        } _: { serverPort in
            let http = ConsentFormClient.makeHTTPClient(connections: max(8, publishers))
            do {
                try await body(APIClient(baseURL: "http://127.0.0.1:\(serverPort)", key: adminKey, http: http), http)
            } catch {
                try? await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }
}
