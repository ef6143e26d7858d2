// swift-tools-version:6.0
import PackageDescription

// Products several targets use, named once.
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let asyncHTTPClient: Target.Dependency = .product(name: "AsyncHTTPClient", package: "async-http-client")
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let httpTypes: Target.Dependency = .product(name: "HTTPTypes", package: "swift-http-types")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let postgresNIO: Target.Dependency = .product(name: "PostgresNIO", package: "postgres-nio")

let package = Package(
    name: "BankHooks",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bankhooks", targets: ["bankhooks"]),
        .library(name: "BankHooksCore", targets: ["BankHooksCore"]),
        // For receivers: verify every format's signature and decode typed events (Foundation and swift-crypto only).
        .library(name: "BankHooksVerify", targets: ["BankHooksVerify"]),
        // For Hummingbird 2 receivers: a middleware that verifies and decodes before the route.
        .library(name: "BankHooksVerifyHummingbird", targets: ["BankHooksVerifyHummingbird"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // The thin executable: argument parsing only, everything else lives in libraries.
        .executableTarget(
            name: "bankhooks",
            dependencies: [
                "BankHooksServer",
                "BankHooksBenchmark",
                "BankHooksDemo",
                "BankHooksLoopback",
                "BankHooksStorage",
                "BankHooksCore",
                "BankHooksVerify",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The receiver library and the event catalog: typed models and JSON Schemas of every
        // built-in event type, and signature verification for every format.
        .target(
            name: "BankHooksVerify",
            dependencies: [crypto]
        ),
        // The receiver middleware for Hummingbird 2 (BankHooksVerify itself stays free of Hummingbird).
        .target(
            name: "BankHooksVerifyHummingbird",
            dependencies: ["BankHooksVerify", hummingbird, nioCore]
        ),
        // Domain core: ids, JSON scanning, retry schedules, wire formats, address policy.
        .target(
            name: "BankHooksCore",
            dependencies: [
                "BankHooksVerify",
                crypto,
                nioCore,
            ]
        ),
        // Storage seam, its embedded SQLite implementation and its PostgreSQL one (several nodes).
        .target(
            name: "BankHooksStorage",
            dependencies: [
                "BankHooksCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                postgresNIO,
                // PostgresNIO's pool, for its `ConnectionPoolError` (a tripped connection circuit breaker).
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                logging,
                serviceLifecycle,
            ]
        ),
        // The dispatcher: claims, sends, records.
        .target(
            name: "BankHooksDelivery",
            dependencies: [
                "BankHooksCore",
                "BankHooksStorage",
                asyncHTTPClient,
                nioPosix,
                logging,
                serviceLifecycle,
            ]
        ),
        // The sandbox bank: institutions, authorisations and their redirect, consents and their
        // tokens, what a link or a payment sets off in each provider's events, deterministic data.
        .target(
            name: "BankHooksSandbox",
            dependencies: [
                "BankHooksCore",
                "BankHooksStorage",
                "BankHooksDelivery",
                "BankHooksVerify",
                crypto,
                .product(name: "JWTKit", package: "jwt-kit"),
                logging,
                serviceLifecycle,
            ]
        ),
        // The HTTP API and application assembly.
        .target(
            name: "BankHooksServer",
            dependencies: [
                "BankHooksCore",
                "BankHooksStorage",
                "BankHooksDelivery",
                "BankHooksSandbox",
                .product(name: "Mustache", package: "swift-mustache"),
                hummingbird,
                .product(name: "HummingbirdCore", package: "hummingbird"),
                httpTypes,
                .product(name: "NIOHTTP1", package: "swift-nio"),
                logging,
                serviceLifecycle,
            ],
            // The OpenAPI document of the API, compiled into the binary and served at /openapi.json.
            resources: [.embedInCode("openapi.json")]
        ),
        // `bankhooks bench`: the whole server in process, measured end to end (like Hummingbird's Benchmarks/).
        .target(
            name: "BankHooksBenchmark",
            dependencies: [
                "BankHooksCore",
                "BankHooksStorage",
                "BankHooksServer",
                "BankHooksLoopback",
                "BankHooksDemo",
                hummingbird,
                asyncHTTPClient,
                crypto,
                logging,
                nioCore,
                serviceLifecycle,
            ]
        ),
        // `bankhooks demo`: the server, a receiver and a callback page in process, walked through
        // the public HTTP API (and the consent-form client the redirect benchmark shares).
        .target(
            name: "BankHooksDemo",
            dependencies: [
                "BankHooksCore",
                "BankHooksServer",
                "BankHooksSandbox",
                "BankHooksLoopback",
                "BankHooksVerify",
                hummingbird,
                asyncHTTPClient,
                logging,
                nioCore,
                .product(name: "NIOHTTP1", package: "swift-nio"),
                serviceLifecycle,
            ]
        ),
        // One receiver on 127.0.0.1 and one API client, shared by the benchmark and the tests.
        .target(
            name: "BankHooksLoopback",
            dependencies: [
                "BankHooksCore",
                hummingbird,
                httpTypes,
                asyncHTTPClient,
                serviceLifecycle,
                logging,
                nioCore,
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Real parts for tests: the loopback receiver and client (re-exported), a hostile
        // receiver, a child `bankhooks serve`, temporary databases.
        .target(
            name: "BankHooksTestSupport",
            dependencies: [
                "BankHooksCore",
                "BankHooksStorage",
                "BankHooksLoopback",
                hummingbird,
                httpTypes,
                asyncHTTPClient,
                serviceLifecycle,
                logging,
                nioCore,
                nioPosix,
                postgresNIO,
            ],
            path: "Tests/BankHooksTestSupport"
        ),
        .testTarget(name: "BankHooksVerifyTests", dependencies: ["BankHooksVerify"]),
        .testTarget(
            name: "BankHooksVerifyHummingbirdTests",
            dependencies: [
                "BankHooksVerifyHummingbird",
                "BankHooksCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                httpTypes,
            ]
        ),
        .testTarget(name: "BankHooksBenchmarkTests", dependencies: ["BankHooksBenchmark", "BankHooksTestSupport"]),
        .testTarget(name: "BankHooksCoreTests", dependencies: ["BankHooksCore", "BankHooksTestSupport"]),
        .testTarget(name: "BankHooksStorageTests", dependencies: ["BankHooksStorage", "BankHooksTestSupport"]),
        .testTarget(name: "BankHooksSandboxTests", dependencies: ["BankHooksSandbox", "BankHooksTestSupport"]),
        .testTarget(
            name: "BankHooksDeliveryTests",
            dependencies: ["BankHooksDelivery", "BankHooksTestSupport"]
        ),
        .testTarget(
            name: "BankHooksServerTests",
            dependencies: [
                "BankHooksServer",
                "BankHooksTestSupport",
                "BankHooksVerify",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                asyncHTTPClient,
            ],
            // Golden examples from the seeds, read by path.
            exclude: ["Fixtures"]
        ),
    ]
)
