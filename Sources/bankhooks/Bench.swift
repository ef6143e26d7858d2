import ArgumentParser

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure publish and delivery throughput and latency (use a release build).")

    func run() async throws {
        throw ValidationError("not built yet")
    }
}
