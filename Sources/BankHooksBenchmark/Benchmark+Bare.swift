import AsyncHTTPClient
import BankHooksCore
import BankHooksLoopback
import Crypto
import Foundation
import NIOCore

extension Benchmark {
    /// The same receiver, hit by a bare AsyncHTTPClient (64 in flight, one HMAC header, body read):
    /// the ceiling the dispatcher's `deliveryRate` is compared against.
    func bareSender(url: String, deliveryRate: Double) async throws {
        guard options.bareRequests > 0 else { return }
        let http = APIClient.makeHTTPClient(connections: 64)
        let key = SymmetricKey(size: .bits256)
        let body = ByteBuffer(string: #"{"type":"bench","timestamp":"2026-01-01T00:00:00.000Z","data":{"pad":""# + String(repeating: "x", count: max(0, options.payloadBytes - 40)) + #""}}"#)
        let count = options.bareRequests
        let next = Locked(0)
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    while next.withLock({ n -> Bool in defer { n += 1 }; return n < count }) {
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        let mac = HMAC<SHA256>.authenticationCode(for: body.readableBytesView, using: key)
                        request.headers.add(name: "webhook-signature", value: "v1," + Encoding.base64(Array(mac)))
                        request.body = .bytes(body)
                        if let response = try? await http.execute(request, timeout: .seconds(15)) {
                            _ = try? await response.body.collect(upTo: 64 * 1024)
                        }
                    }
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        try await http.shutdown()
        let bare = Double(count) / elapsed.secondsDouble
        let ratio = deliveryRate / bare
        say(String(format: "bare:      %d requests in %.2f s = %.0f requests/s; BankHooks/bare ratio %.2f", count, elapsed.secondsDouble, bare, ratio))
    }
}
