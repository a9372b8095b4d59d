// swift-tools-version:6.1
import PackageDescription

// Layering (see Docs/architecture.md):
//   SocfwWire, SocfwCapture  — pure Swift, no dependencies: packet views, pcap/pcapng.
//   SocfwJSON                — pure Swift: JSON text to values in one pass (control
//                              protocol: socfwd, socfwctl, socfw-api).
//   SocfwRegex               — PCRE2 (JIT, bounded) behind a small Swift API; the one C
//                              library the core uses (userland, no root).
//   SocfwIDS                 — signatures: Suricata/Snort rule language, stream reassembly,
//                              HTTP/1.x parsing, Hyperscan prefilter + verification.
//   SocfwCore                — config, rules, pipeline, verdicts, EVE output.
//   SocfwKernel              — the thin kernel-facing layer (NFQUEUE, nftables, AF_PACKET).
//   socfwd, socfw-bench      — executables.
//   socfwctl                 — the CLI: a client of socfwd's control socket only.
let package = Package(
    name: "socfw",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "socfwd", targets: ["socfwd"]),
        .executable(name: "socfw-bench", targets: ["socfw-bench"]),
        .executable(name: "socfwctl", targets: ["socfwctl"]),
        .executable(name: "socfw-api", targets: ["socfw-api"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // socfw-api (the management-plane HTTP server) only.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .target(name: "SocfwWire"),
        // JSON text to values in one pass (socfwd's control protocol, socfw-api).
        .target(name: "SocfwJSON"),
        .target(name: "SocfwCapture"),
        .systemLibrary(name: "CPCRE2", path: "Modules/CPCRE2", pkgConfig: "libpcre2-8",
                       providers: [.apt(["libpcre2-dev"])]),
        .target(name: "SocfwRegex", dependencies: ["CPCRE2"]),
        .systemLibrary(name: "CHyperscan", path: "Modules/CHyperscan", pkgConfig: "libhs",
                       providers: [.apt(["libhyperscan-dev"])]),
        .target(
            name: "SocfwIDS", dependencies: ["SocfwWire", "SocfwRegex", "CHyperscan"],
            // The inspector is a class owned by one worker thread; dynamic
            // exclusivity checks on its properties cost ~5% of IDS time on
            // the packet path (measured with perf, Scripts/bench ids). The
            // static checks stay on.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
        ),
        .target(
            name: "SocfwCore",
            dependencies: ["SocfwWire", "SocfwCapture", "SocfwRegex", "SocfwIDS", "SocfwJSON",
                           .product(name: "Yams", package: "Yams")]
        ),
        .systemLibrary(name: "CNetfilterQueue", path: "Modules/CNetfilterQueue", pkgConfig: "libnetfilter_queue",
                       providers: [.apt(["libnetfilter-queue-dev"])]),
        // glibc's mallopt (socfw-api's allocator thresholds); libc, nothing to link.
        .systemLibrary(name: "CMalloc", path: "Modules/CMalloc"),
        .systemLibrary(name: "CMnl", path: "Modules/CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        .systemLibrary(name: "CNftnl", path: "Modules/CNftnl", pkgConfig: "libnftnl", providers: [.apt(["libnftnl-dev"])]),
        .systemLibrary(name: "CNftables", path: "Modules/CNftables", pkgConfig: "libnftables",
                       providers: [.apt(["libnftables-dev"])]),
        .target(
            name: "CSocfwNetlink",
            dependencies: ["CNetfilterQueue", "CMnl", "CNftnl"]
        ),
        .target(
            name: "SocfwKernel",
            dependencies: [
                "SocfwWire", "SocfwIDS", "SocfwCore", "SocfwStore", "CSocfwNetlink", "CNftables",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "socfwd",
            dependencies: [
                "SocfwCore", "SocfwIDS", "SocfwKernel", "SocfwStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "socfw-bench", dependencies: ["SocfwCore", "SocfwIDS", "SocfwCapture"]),
        .executableTarget(name: "socfw-nftset", dependencies: ["SocfwKernel", "SocfwCore"]),
        .executableTarget(
            name: "socfwctl",
            dependencies: ["SocfwJSON", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "SocfwWireTests", dependencies: ["SocfwWire"]),
        .testTarget(name: "SocfwCaptureTests", dependencies: ["SocfwCapture"]),
        .testTarget(name: "SocfwRegexTests", dependencies: ["SocfwRegex"]),
        .testTarget(name: "SocfwIDSTests", dependencies: ["SocfwIDS", "SocfwWire"]),
        .testTarget(name: "SocfwCoreTests", dependencies: ["SocfwCore", "SocfwIDS"]),
        .target(
            name: "SocfwStore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                // sqlite3's column accessors, for rows read in place (alerts pages).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // socfw-api: the management-plane HTTP server, a client of socfwd's control socket only
        // (Docs/api.md). No dependency on the packet-path targets.
        .target(
            name: "SocfwAPI",
            dependencies: [
                "SocfwJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "socfw-api",
            dependencies: [
                "SocfwAPI",
                "CMalloc",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SocfwAPITests",
            dependencies: [
                "SocfwAPI",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["Fixtures"]
        ),
        // GRDB for the tests' second connection, which tampers with the file behind the store's back.
        .testTarget(
            name: "SocfwStoreTests",
            dependencies: ["SocfwStore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ]
)
