// swift-tools-version: 6.1
// A package of your own with a custom agent type, run by the same `plexus` command line.
// In your project, depend on Plexus by URL and version instead of by path.
import PackageDescription

let package = Package(
    name: "DewPoint",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "home-plexus", targets: ["HomePlexus"]),
    ],
    dependencies: [
        .package(name: "Plexus", path: "../.."),
    ],
    targets: [
        // The agent type: plain Swift against the `Plexus` library.
        .target(
            name: "DewPointAgent",
            dependencies: [.product(name: "Plexus", package: "Plexus")]
        ),
        // The binary: `plexus` with the built-in types plus `dew-point`.
        .executableTarget(
            name: "HomePlexus",
            dependencies: [
                "DewPointAgent",
                .product(name: "PlexusAgents", package: "Plexus"),
                .product(name: "PlexusCLI", package: "Plexus"),
            ]
        ),
        .testTarget(
            name: "DewPointAgentTests",
            dependencies: [
                "DewPointAgent",
                .product(name: "Plexus", package: "Plexus"),
                .product(name: "PlexusCore", package: "Plexus"),
                .product(name: "PlexusMQTT", package: "Plexus"),
                .product(name: "PlexusTesting", package: "Plexus"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
