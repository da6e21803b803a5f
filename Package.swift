// swift-tools-version:6.0
import PackageDescription

// Release builds of the numeric modules are what we run and test; see the Makefile. Each target's
// dependencies are exactly the modules its files import.
let swift5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "bnrepro",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "bnrepro", targets: ["bnrepro"]),
        // Tests only: LD_PRELOAD=.build/release/libbnrepro-faults.so with BNREPRO_FAULT_INJECT fails the Nth
        // file-system write of a process (Sources/CFaultInjection/fault_injection.c says what it covers).
        .library(name: "bnrepro-faults", type: .dynamic, targets: ["CFaultInjection"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // System libraries: a module map and a shim header each, nothing else.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "CLibPNG", path: "Sources/CLibPNG"),
        .systemLibrary(name: "CCairo", path: "Sources/CCairo"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),

        .target(name: "AtomicIO", swiftSettings: swift5),
        .target(name: "CFaultInjection", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "ArrayFormats", dependencies: ["AtomicIO"], swiftSettings: swift5),
        .target(name: "Tensor", dependencies: ["CBLAS", "CDNNL"], swiftSettings: swift5),
        .target(name: "NN", dependencies: ["Tensor", "CDNNL", "ArrayFormats"], exclude: ["README.md"],
                swiftSettings: swift5),
        .target(name: "Datasets", dependencies: ["ArrayFormats", "AtomicIO", "CZlib", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: swift5),
        .target(name: "Statistics", swiftSettings: swift5),
        .target(name: "Plot", dependencies: ["CCairo", "CLibPNG", "AtomicIO", "Statistics"], swiftSettings: swift5),
        .target(name: "Pipeline", dependencies: ["AtomicIO", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: swift5),
        .target(name: "Experiments", dependencies: ["ArrayFormats", "AtomicIO", "Pipeline", "NN", "Tensor", "Datasets", "Plot", "Statistics"],
                swiftSettings: swift5),
        // Slurm: the executor that submits stages as jobs, and campaigns (a run submitted whole, monitored later).
        .target(name: "Cluster", dependencies: ["Pipeline", "AtomicIO"], swiftSettings: swift5),
        // `bnrepro audit`: recompute cached stages in a scratch cache and compare outputs by format.
        .target(name: "Audit", dependencies: ["Pipeline", "ArrayFormats", "CLibPNG", "Datasets"], swiftSettings: swift5),
        // The HTML report of the cache (`bnrepro report`): reads records, writes one self-contained page.
        .target(name: "Report", dependencies: ["Pipeline"], swiftSettings: swift5),
        // Sharing results through a remote in Bazel's HTTP cache layout (`push`, `pull`, `run --pull`).
        .target(name: "RemoteCache", dependencies: ["Pipeline", "AtomicIO"], swiftSettings: swift5),
        .target(name: "BNReproCLI", dependencies: ["Pipeline", "Cluster", "Audit", "Report", "RemoteCache", "ArrayFormats", "Plot", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                swiftSettings: swift5),
        .executableTarget(name: "bnrepro", dependencies: ["BNReproCLI", "Experiments"], swiftSettings: swift5),

        // Benchmarks: `make bench`.
        .target(name: "CPeak"),
        .executableTarget(name: "bnrepro-bench", dependencies: ["Pipeline", "NN", "Tensor", "Datasets", "CPeak"], swiftSettings: swift5),

        // Small stage kinds for the pipeline's own tests, and a CLI binary that knows them.
        .target(name: "PipelineTestKinds", dependencies: ["Pipeline", "ArrayFormats"], path: "Tests/Support/PipelineTestKinds",
                swiftSettings: swift5),
        // Archives with known pixels and a loopback HTTP server, for the Datasets and Experiments tests.
        .target(name: "DatasetsTestSupport", dependencies: ["CZlib"], path: "Tests/Support/DatasetsTestSupport",
                swiftSettings: swift5),
        // A project whose smoke profile ran through the real binary, and a process runner: ReportTests, RemoteCacheTests.
        .target(name: "SmokeProjectSupport", dependencies: ["Pipeline", "DatasetsTestSupport"], path: "Tests/Support/SmokeProjectSupport",
                swiftSettings: swift5),
        .executableTarget(name: "bnrepro-testkinds", dependencies: ["BNReproCLI", "PipelineTestKinds"],
                          path: "Tests/Support/bnrepro-testkinds", swiftSettings: swift5),

        .testTarget(name: "ArrayFormatsTests", dependencies: ["ArrayFormats"], swiftSettings: swift5),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "CDNNL"], swiftSettings: swift5),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor"], swiftSettings: swift5),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "DatasetsTestSupport"], swiftSettings: swift5),
        .testTarget(name: "PlotTests", dependencies: ["Plot", "Statistics"], swiftSettings: swift5),
        // The output comparisons of `audit` on files made here; the command itself is in PipelineTests.
        .testTarget(name: "AuditTests", dependencies: ["Audit", "Pipeline", "ArrayFormats", "Plot"], swiftSettings: swift5),
        // The fault-injection sweep also drives the real `bnrepro` over a smoke stage.
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Cluster", "BNReproCLI", "PipelineTestKinds", "bnrepro-testkinds", "bnrepro"],
                    swiftSettings: swift5),
        // Integration tests against a real Slurm (scripts/slurm-test-cluster.sh); they skip without one.
        .testTarget(name: "SlurmTests", dependencies: ["Pipeline", "Cluster", "PipelineTestKinds", "bnrepro-testkinds", "DatasetsTestSupport", "bnrepro"],
                    swiftSettings: swift5),
        // The report's HTML pieces, and the page of a smoke run rendered in headless Chromium.
        .testTarget(name: "ReportTests", dependencies: ["Report", "Pipeline", "DatasetsTestSupport", "SmokeProjectSupport", "bnrepro"], swiftSettings: swift5),
        // push, pull and run --pull against a real nginx (WebDAV PUT) on loopback, and a file:// remote.
        .testTarget(name: "RemoteCacheTests", dependencies: ["RemoteCache", "Pipeline", "DatasetsTestSupport", "SmokeProjectSupport", "bnrepro"], swiftSettings: swift5),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Pipeline", "Datasets", "DatasetsTestSupport", "bnrepro"], swiftSettings: swift5),
    ]
)
