// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "sqlite-stress",
    products: [
        .executable(name: "sqlite-stress", targets: ["sqlite-stress"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The system SQLite (Debian: libsqlite3-dev), with the preupdate hook declared.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // A small Swift binding over CSQLite; the only Swift module that sees SQLite's C types.
        .target(name: "StressSQLite", dependencies: ["CSQLite"]),
        // The fault-injecting VFS (I/O errors, power loss, planted storage bugs), in C.
        .target(name: "CFaultVFS", dependencies: ["CSQLite"]),
        // The Antithesis SDK protocol, spoken from Swift (there is no Swift SDK).
        .target(name: "StressAntithesis"),
        // Seeded randomness, generators, the workload, the oracle and reports.
        .target(name: "StressKit", dependencies: ["StressSQLite", "StressAntithesis", "CFaultVFS"]),
        // The thin command-line front end.
        .executableTarget(
            name: "sqlite-stress",
            dependencies: [
                "StressKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [.unsafeFlags(["-Xclang-linker", "-no-pie"])]
        ),
        .testTarget(name: "StressSQLiteTests", dependencies: ["StressSQLite"]),
        .testTarget(name: "StressKitTests", dependencies: ["StressKit", "StressSQLite"]),
        .testTarget(name: "StressAntithesisTests", dependencies: ["StressAntithesis"]),
        .testTarget(name: "CLITests", dependencies: ["sqlite-stress", "StressSQLite"]),
    ],
    swiftLanguageModes: [.v6]
)
