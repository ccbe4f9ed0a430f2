// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Plexus",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PlexusMQTT", targets: ["PlexusMQTT"]),
        .library(name: "PlexusCore", targets: ["PlexusCore"]),
        .library(name: "PlexusLLM", targets: ["PlexusLLM"]),
        .library(name: "PlexusPolicy", targets: ["PlexusPolicy"]),
        .library(name: "PlexusTesting", targets: ["PlexusTesting"]),
        .library(name: "Plexus", targets: ["Plexus"]),
        .library(name: "PlexusAgents", targets: ["PlexusAgents"]),
        .library(name: "PlexusMemory", targets: ["PlexusMemory"]),
        .library(name: "PlexusCLI", targets: ["PlexusCLI"]),
        .executable(name: "plexus", targets: ["PlexusTool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        .target(
            name: "PlexusMQTT",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The runtime, the manifest, the gate, the managed broker and model server (DESIGN.md).
        .target(
            name: "Plexus",
            dependencies: [
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "PlexusCore",
                "PlexusProcess",
                "PlexusLLM",
                "PlexusPolicy",
                "PlexusMemory",
                .product(name: "Yams", package: "Yams"),
                "PlexusMQTT",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "PlexusCore",
            dependencies: [
                "PlexusMQTT",
                .product(name: "NIOCore", package: "swift-nio"),
                // SHA-256 of actuator commands (approvals name the hash); signatures later.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Language models (DESIGN.md): the LanguageModel protocol and chat types.
        // Providers talk HTTP on NIO directly (docs/models.md: why not AsyncHTTPClient);
        // resilience counts in swift-metrics.
        .target(
            name: "PlexusLLM",
            dependencies: [
                "PlexusCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
                // Prompt templates (prompts/*.md).
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // Agent memory in SQLite (DESIGN.md, docs/memory.md): message log, facts, recall,
        // context windows, the durable MQTT session and the outbox.
        .target(
            name: "PlexusMemory",
            dependencies: [
                "PlexusCore",
                "PlexusMQTT",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the message log's hot insert (MessageLog.insert).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Actuation policies (DESIGN.md): pure decision logic, no I/O, no clock reads.
        .target(name: "PlexusPolicy", dependencies: ["PlexusCore"]),
        // Ready agents (DESIGN.md): built-in types of the `plexus` binary.
        .target(
            name: "PlexusAgents",
            dependencies: ["Plexus", "PlexusCore", "PlexusMQTT", "PlexusLLM", "PlexusPolicy"]
        ),
        // Test helpers; ScriptedModel and LocalModelServer need the LanguageModel types.
        .target(
            name: "PlexusTesting",
            dependencies: ["PlexusLLM", "PlexusCore", "PlexusProcess"]
        ),
        // Child processes (posix_spawn with signals reset, output to files), shared by the
        // managed broker and model server and the test helpers.
        .target(name: "PlexusProcess"),
        // The command-line tool as a library, so a package with its own agent types
        // ships the same `plexus` verbs (Examples/DewPoint).
        .target(
            name: "PlexusCLI",
            dependencies: [
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "PlexusMemory",
                "Plexus",
                "PlexusPolicy",
                "PlexusCore",
                "PlexusMQTT",
                "PlexusTesting",
                "PlexusLLM",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The `plexus` binary: PlexusCLI with the built-in agent types.
        .executableTarget(name: "PlexusTool", dependencies: ["PlexusCLI", "PlexusAgents"]),
        // libFuzzer target for the packet decoder; see scripts/fuzz.sh.
        .executableTarget(
            name: "PlexusMQTTFuzzer",
            dependencies: [
                "PlexusMQTT",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PlexusMQTTTests",
            dependencies: [
                "PlexusMQTT",
                "PlexusTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PlexusCoreTests",
            dependencies: [
                "PlexusCore",
                "PlexusMQTT",
                "PlexusTesting",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "PlexusTestingTests", dependencies: ["PlexusTesting"]),
        .testTarget(name: "PlexusCLITests", dependencies: ["PlexusTesting", "PlexusCore", "PlexusMQTT", "PlexusMemory"]),
        .testTarget(
            name: "PlexusTests",
            dependencies: [
                "Plexus",
                "PlexusLLM",
                "PlexusMemory",
                "PlexusTesting",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "PlexusAgentsTests",
            dependencies: [
                "PlexusAgents", "Plexus", "PlexusCore", "PlexusLLM", "PlexusMemory", "PlexusMQTT", "PlexusPolicy", "PlexusTesting",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "PlexusMemoryTests",
            dependencies: [
                "PlexusMemory",
                "PlexusCore",
                "PlexusMQTT",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "PlexusPolicyTests", dependencies: ["PlexusPolicy", "PlexusCore", "PlexusTesting"]),
        // Fixtures/ is read through #filePath (as the dev set beside the repo is), not bundled.
        // The in-process HTTP fixtures run on NIOHTTP1; the local-model tests start llama.cpp's server.
        .testTarget(
            name: "PlexusLLMTests",
            dependencies: [
                "PlexusLLM",
                "Plexus",
                "PlexusCore",
                "PlexusTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
