import BankHooksTestSupport
import BankHooksVerify
import Foundation
import Testing

/// `bankhooks trigger` as a user runs it: a child process against a live `bankhooks serve` (another
/// child process), with one webhook per format on a receiver on 127.0.0.1.
@Suite(.serialized) struct TriggerCommandTests {
    static let formats = ["standard", "lean", "okra", "bridge"]

    /// A server with one webhook per format (id by format) on `receiver`, the path naming the format.
    struct Fixture {
        let dir = TemporaryDirectory()
        let server: ServerProcess
        let key: String
        let webhooks: [String: String]

        init(receiver: TestReceiver) async throws {
            server = try await ServerProcess(database: dir.file("trigger.sqlite"), arguments: ["--allow-destination", "127.0.0.1/32"])
            key = try #require(server.bootstrapKey)
            var webhooks: [String: String] = [:]
            for format in TriggerCommandTests.formats {
                let created = try await API(baseURL: server.baseURL, key: key).call(
                    .POST, "/v1/webhooks", body: #"{"url": "\#(receiver.url("/\(format)"))", "format": "\#(format)"}"#)
                #expect(created.status == 201, "\(created.text)")
                webhooks[format] = try #require(created.json?["id"] as? String)
            }
            self.webhooks = webhooks
        }

        var api: API { API(baseURL: server.baseURL, key: key) }

        /// Runs `bankhooks trigger` with the server and key in the environment (BANKHOOKS_URL, BANKHOOKS_API_KEY).
        func trigger(_ arguments: [String], environment: Bool = true) async throws -> (status: Int32, output: String, errors: String) {
            var variables = ProcessInfo.processInfo.environment
            variables.removeValue(forKey: "BANKHOOKS_URL")
            variables.removeValue(forKey: "BANKHOOKS_API_KEY")
            if environment {
                variables["BANKHOOKS_URL"] = server.baseURL
                variables["BANKHOOKS_API_KEY"] = key
            }
            let directory = TemporaryDirectory()
            let process = try ChildProcess(
                executable: ServerProcess.binaryPath, arguments: ["trigger"] + arguments, environment: variables,
                output: .file(directory.file("stdout")), errors: .file(directory.file("stderr")))
            await process.exited()
            func read(_ name: String) -> String { (try? String(contentsOfFile: directory.file(name), encoding: .utf8)) ?? "" }
            return (process.terminationStatus, read("stdout"), read("stderr"))
        }

        /// How many events the application has published.
        func eventCount() async throws -> Int {
            let page = try await api.call(.GET, "/v1/events?limit=100")
            return (page.json?["data"] as? [Any])?.count ?? -1
        }
    }

    /// JSON text with sorted keys, so two values compare equal when their JSON is.
    static func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }

    /// A built-in type's first catalog example, as a JSON object.
    static func example(_ type: String) throws -> [String: Any] {
        let example = try #require(EventCatalog.builtIn[type]?.examples.first, "\(type) has an example")
        return try #require(try JSONSerialization.jsonObject(with: Data(example.data.utf8)) as? [String: Any])
    }

    /// One type of each family the CLI can publish, its overrides, the data expected after them,
    /// and the formats whose webhooks carry it.
    static func cases() throws -> [(type: String, arguments: [String], expected: [String: Any], formats: [String])] {
        var payment = try example("payment.created")
        payment["amount"] = 42
        payment["reason"] = "trigger test"
        var okra = try example("TRANSACTIONS.INITIAL_TRANSACTIONS")
        okra["new_transactions"] = 7
        okra["record"] = "rec_trigger"
        var entity = try example("entity.created")
        var permissions = try #require(entity["permissions"] as? [Any])
        permissions[1] = "balance"
        entity["permissions"] = permissions
        var bridge = try example("item.created")
        bridge["item_id"] = 99
        return [
            ("payment.created", ["--set", "amount=42", "--set", "reason=trigger test"], payment, ["lean", "standard"]),
            ("entity.created", ["--set", "permissions.1=\"balance\""], entity, ["lean", "standard"]),
            ("TRANSACTIONS.INITIAL_TRANSACTIONS", ["--set", "new_transactions=7", "--set", "record=rec_trigger"], okra, ["okra", "standard"]),
            ("item.created", ["--set", "item_id=99"], bridge, ["bridge", "standard"]),
            ("invoice.paid", ["--data", #"{"invoice": {"id": "inv_1", "lines": [{"amount": 1}]}}"#, "--set", "invoice.lines.0.amount=12.5"],
             ["invoice": ["id": "inv_1", "lines": [["amount": 12.5]]]], ["standard"]),
        ]
    }

    @Test func triggerPublishesAnExampleOfEveryFamilyAndPrintsWhatEachWebhookReceived() async throws {
        try await TestReceiver.run { receiver in
            let f = try await Fixture(receiver: receiver)
            let registered = try await f.api.call(.POST, "/v1/event-types", body: #"{"name": "invoice.paid", "description": "An invoice was paid."}"#)
            #expect(registered.status == 201, "\(registered.text)")
            // A registered type has no example: the data must be given.
            let bare = try await f.trigger(["invoice.paid"])
            #expect(bare.status == 2, "\(bare)")
            #expect(bare.errors.contains("has no example") && bare.errors.contains("--data"), "\(bare.errors)")
            #expect(try await f.eventCount() == 0)

            for test in try Self.cases() {
                let before = receiver.requests.count
                let run = try await f.trigger([test.type] + test.arguments)
                #expect(run.status == 0, "\(test.type): \(run)")
                let webhooks = test.formats.count == 1 ? "1 webhook\n" : "\(test.formats.count) webhooks\n"
                #expect(run.output.contains("(\(test.type)) to \(webhooks)"), "\(run.output)")
                let received = Array(try await receiver.waitForRequests(before + test.formats.count).dropFirst(before))
                #expect(received.map(\.path).sorted() == test.formats.map { "/" + $0 }.sorted())
                for request in received {
                    let format = String(request.path.dropFirst())
                    let envelope = try EventDecoder.envelope(
                        format: format, body: request.body, headers: request.headers.map { (name: $0.key, value: $0.value) })
                    #expect(envelope.type == test.type)
                    let data = try JSONSerialization.jsonObject(with: Data(envelope.rawData))
                    #expect(try Self.canonical(data) == Self.canonical(test.expected), "\(test.type) to \(format)")
                    // The line for the webhook names it, its format and the receiver's 200.
                    let webhook = try #require(f.webhooks[format])
                    let line = run.output.split(separator: "\n").first { $0.contains(webhook) }
                    #expect(line?.contains(" \(format) ") == true && line?.contains(" 200 ") == true && line?.contains("succeeded") == true,
                            "\(run.output)")
                }
            }
            // --list names every family, and the types of each under it.
            let list = try await f.trigger(["--list"])
            #expect(list.status == 0, "\(list)")
            for family in ["lean (", "okra (", "bridge (", "bankhooks (", "custom ("] {
                #expect(list.output.contains("\n" + family) || list.output.hasPrefix(family), "\(family): \(list.output)")
            }
            #expect(list.output.contains("  TRANSACTIONS.INITIAL_TRANSACTIONS "))
            #expect(list.output.contains("  invoice.paid "))
        }
    }

    @Test func eachLineShowsWhatItsWebhookGotAReceiversErrorOrNoAnswer() async throws {
        try await TestReceiver.run(script: { request, _ in TestReceiver.Reply(status: request.path == "/lean" ? 503 : 200) }) { receiver in
            let f = try await Fixture(receiver: receiver)
            // Nothing listens on port 1: the attempt gets no response.
            let closed = try await f.api.call(.POST, "/v1/webhooks", body: #"{"url": "http://127.0.0.1:1/hook", "event_types": ["payment.created"]}"#)
            let closedID = try #require(closed.json?["id"] as? String)
            let run = try await f.trigger(["payment.created"])
            #expect(run.status == 0, "every first attempt is done, whatever it got: \(run)")
            let lines = run.output.split(separator: "\n").map(String.init)
            let line = { (id: String?) in lines.first { id != nil && $0.contains(id ?? "") } ?? "" }
            #expect(line(f.webhooks["standard"]).contains(" 200 ") && line(f.webhooks["standard"]).contains("succeeded"), "\(run.output)")
            // The receiver's 503 is retried: the delivery stays pending.
            #expect(line(f.webhooks["lean"]).contains(" lean ") && line(f.webhooks["lean"]).contains(" 503 "), "\(run.output)")
            #expect(line(f.webhooks["lean"]).contains("pending"), "\(run.output)")
            #expect(line(closedID).contains(" refused ") && line(closedID).contains("pending"), "\(run.output)")
            #expect(lines.count == 4, "the publish and one line per webhook: \(run.output)")
        }
    }

    @Test func badArgumentsAndARefusedKeyPublishNothing() async throws {
        try await TestReceiver.run { receiver in
            let f = try await Fixture(receiver: receiver)
            let cases: [(arguments: [String], environment: Bool, status: Int32, message: String)] = [
                (["no.such.type"], true, 1, "unknown event type no.such.type"),
                (["payment.created", "--set", "amount.value=1"], true, 2, "`amount` is a number"),
                (["payment.created", "--set", "bank.name=x"], true, 2, "has no member `bank`"),
                (["entity.created", "--set", "permissions.40=x"], true, 2, "is not one of its indexes"),
                (["payment.created", "--set", "amount"], true, 2, "expected path=value"),
                (["webhook.test"], true, 2, "sent by BankHooks itself"),
                (["payment.created", "--url", f.server.baseURL, "--key", "bhk_wrong"], false, 1, "answered 401"),
                (["payment.created"], false, 2, "--url or BANKHOOKS_URL"),
            ]
            for test in cases {
                let run = try await f.trigger(test.arguments, environment: test.environment)
                #expect(run.status == test.status, "\(test.arguments): \(run)")
                #expect(run.errors.contains(test.message), "\(test.arguments): \(run.errors)")
                #expect(run.output.isEmpty, "\(test.arguments): \(run.output)")
            }
            #expect(try await f.eventCount() == 0)
            #expect(receiver.requests.isEmpty)
            // The same command with the flags instead of the environment publishes.
            let good = try await f.trigger(["payment.created", "--url", f.server.baseURL + "/", "--key", f.key], environment: false)
            #expect(good.status == 0, "\(good)")
            #expect(try await f.eventCount() == 1)
        }
    }
}
