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
        // A small Swift binding over CSQLite; the only module that sees C types.
        .target(name: "StressSQLite", dependencies: ["CSQLite"]),
        // Seeded randomness, generators, the workload, the SQL log and reports.
        .target(name: "StressKit", dependencies: ["StressSQLite"]),
        // The thin command-line front end.
        .executableTarget(
            name: "sqlite-stress",
            dependencies: [
                "StressKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "StressSQLiteTests", dependencies: ["StressSQLite"]),
        .testTarget(name: "StressKitTests", dependencies: ["StressKit", "StressSQLite"]),
        .testTarget(name: "CLITests", dependencies: ["sqlite-stress", "StressSQLite"]),
    ],
    swiftLanguageModes: [.v6]
)
