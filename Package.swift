// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Kerf",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kerf", targets: ["kerf"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.30.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        // C adapters: system libraries found through pkg-config, each with a shim header.
        .systemLibrary(
            name: "CFFmpeg",
            // libavformat's pkg-config entry: libavfilter's would load libavfilter and the ~150
            // libraries it needs (speech synthesis, SVG, Vulkan...) into every run, for filters
            // Kerf does not use.
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev",
                              "libswscale-dev", "libswresample-dev", "libavfilter-dev"])]
        ),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),

        // Linux system calls glibc hides from Swift (renameat2).
        .target(name: "CKerfSystem"),
        // System calls for the modules above the adapters: one policy for EINTR, short transfers
        // and EAGAIN in blocking reads and writes; paths.
        .target(name: "KerfSystem", dependencies: ["CKerfSystem"]),
        .target(name: "KerfCore"),
        .target(
            name: "KerfMedia",
            dependencies: [
                "CFFmpeg", "KerfCore", "KerfSystem",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "KerfXML", dependencies: ["CLibXML2", "KerfCore"]),
        .target(name: "KerfCrypto", dependencies: ["COpenSSL", "KerfCore"]),
        .target(name: "KerfManifest", dependencies: ["KerfCore", "KerfXML"]),
        .target(name: "KerfPackager", dependencies: ["KerfCore", "KerfMedia", "KerfCrypto", "KerfManifest", "KerfSystem",
                                                    .product(name: "Yams", package: "Yams")]),
        .target(
            name: "KerfTranscode",
            dependencies: [
                "KerfCore", "KerfMedia", "KerfPackager",
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "KerfValidate",
            dependencies: [
                "KerfCore", "KerfManifest", "KerfXML", "KerfMedia", "KerfCrypto", "KerfSystem",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // RTMP ingest: handshake, chunk stream, AMF0, sessions, FLV and Enhanced RTMP tags. Asks a
        // `PublishAuthorizer` whether a publish is allowed and hands the tags to its pipe; knows no channels.
        .target(
            name: "KerfRTMP",
            dependencies: [
                "KerfCore", "KerfMedia",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Live channels: inputs and reconnection, epochs, the live window, archive, held requests. No HTTP.
        .target(
            name: "KerfLive",
            dependencies: [
                "KerfCore", "KerfMedia", "KerfPackager", "KerfManifest", "KerfCrypto", "KerfTranscode", "KerfRTMP", "KerfSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The HTTP origin: server, responders, file cache, signed URLs, configuration, metrics.
        .target(
            name: "KerfOrigin",
            dependencies: [
                "KerfCore", "KerfMedia", "KerfPackager", "KerfManifest", "KerfCrypto", "KerfTranscode", "KerfLive", "KerfRTMP", "KerfSystem",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "kerf",
            dependencies: [
                "KerfCore", "KerfMedia", "KerfPackager", "KerfManifest", "KerfCrypto", "KerfValidate", "KerfOrigin", "KerfTranscode", "KerfSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Test helpers (fixtures, processes, a decode/re-encode round trip); not part of the product.
        .target(name: "KerfTestSupport", dependencies: ["KerfMedia", "KerfCore"], path: "Tests/KerfTestSupport"),
        // Runs the round trip once; `make leakcheck` runs it under valgrind's memcheck.
        .executableTarget(name: "kerf-leakcheck", dependencies: ["KerfTestSupport", "KerfMedia"], path: "Tests/LeakCheck"),
        // The parsers that face the network, one entry function per fuzz target: run by the
        // libFuzzer executable (`make fuzz`) and, over the committed corpus, by KerfFuzzingTests.
        .target(name: "KerfFuzzing", dependencies: ["KerfRTMP", "KerfOrigin", "KerfManifest", "KerfValidate", "KerfXML",
                                                    "KerfMedia", "KerfCore", .product(name: "NIOCore", package: "swift-nio")],
                path: "Tests/KerfFuzzing"),

        // The test layers (unit, integration, realtime) as Swift Testing tags.
        // Every suite carries exactly one; `Tests/Scripts/test_layers.py` turns them into
        // `swift test --filter` expressions (`make test-unit`).
        .target(name: "KerfTestTags", path: "Tests/KerfTestTags"),

        .testTarget(name: "KerfCoreTests", dependencies: ["KerfTestTags", "KerfCore"]),
        .testTarget(name: "KerfSystemTests", dependencies: ["KerfSystem", "KerfTestSupport", "KerfTestTags"]),
        .testTarget(name: "KerfMediaTests", dependencies: ["KerfMedia", "KerfCore", "KerfSystem", "KerfTestSupport", "KerfTestTags"]),
        .testTarget(name: "KerfXMLTests", dependencies: ["KerfTestTags", "KerfXML", "KerfTestSupport"]),
        .testTarget(name: "KerfCryptoTests", dependencies: ["KerfCrypto", "KerfTestSupport", "KerfTestTags"]),
        .testTarget(name: "KerfManifestTests", dependencies: ["KerfTestTags", "KerfManifest", "KerfXML", "KerfCore", "KerfTestSupport"]),
        .testTarget(name: "KerfPackagerTests", dependencies: ["KerfPackager", "KerfCore", "KerfMedia", "KerfXML", "KerfCrypto", "KerfTestSupport", "KerfTestTags"]),
        .testTarget(name: "KerfTranscodeTests", dependencies: ["KerfTranscode", "KerfPackager", "KerfMedia", "KerfCore", "KerfTestSupport", "KerfTestTags"]),
        .testTarget(name: "KerfValidateTests", dependencies: ["KerfTestTags", "KerfValidate", "KerfCore", "KerfXML", "KerfCrypto", "KerfManifest",
                                                          "KerfSystem", "KerfTestSupport"]),
        .testTarget(name: "KerfRTMPTests", dependencies: ["KerfTestTags", "KerfRTMP", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "KerfOriginTests", dependencies: ["KerfOrigin", "KerfLive", "KerfRTMP", "KerfManifest", "KerfValidate", "KerfTranscode", "KerfXML",
                                                           "KerfPackager", "KerfCrypto", "KerfCore",
                                                           "KerfSystem", "KerfTestSupport", "KerfTestTags",
                                                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                                                           .product(name: "HummingbirdTesting", package: "hummingbird"),
                                                           .product(name: "NIOEmbedded", package: "swift-nio"),
                                                           .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                                                           .product(name: "HTTPTypes", package: "swift-http-types")]),
        .testTarget(name: "KerfLiveTests", dependencies: ["KerfLive", "KerfCore", "KerfManifest", "KerfPackager", "KerfMedia",
                                                         "KerfTestSupport", "KerfTestTags",
                                                         .product(name: "Logging", package: "swift-log"),
                                                         .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "KerfFuzzingTests", dependencies: ["KerfFuzzing", "KerfTestSupport", "KerfTestTags"]),
        .testTarget(name: "kerfTests", dependencies: ["KerfCore", "KerfXML", "KerfTestSupport", "KerfTestTags"],
                    exclude: ["Golden"]),  // read from the checkout by GoldenPackageTests
    ],
    swiftLanguageModes: [.v6]
)

// `make fuzz` builds with KERF_FUZZ=1 (and its own scratch path): the libFuzzer executable exists
// only then. Kerf's own Swift modules are built with libFuzzer's coverage and AddressSanitizer,
// the dependencies plainly (instrumenting SwiftNIO, Hummingbird and the rest as well took
// several times as long to build and guides the fuzzer nowhere it needs to go).
if Context.environment["KERF_FUZZ"] == "1" {
    let sanitizers: [String] = ["-sanitize=fuzzer,address"]
    for target in package.targets where target.type == .regular && target.name.hasPrefix("Kerf") {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(sanitizers)]
    }
    package.targets.append(.executableTarget(name: "kerf-fuzz", dependencies: ["KerfFuzzing"], path: "Fuzz/Driver",
                                             swiftSettings: [.unsafeFlags(sanitizers)],
                                             linkerSettings: [.unsafeFlags(sanitizers + ["-use-ld=lld"])]))
}
