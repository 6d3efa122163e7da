// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "image-worker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "image-worker", targets: ["ImageWorker"]),
        .executable(name: "ext4-writer-bench", targets: ["EXT4Bench"]),
        .executable(name: "inflate-bench", targets: ["InflateBench"]),
        .library(name: "ImageStore", targets: ["ImageStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
    ],
    targets: [
        // System-library shims: module.modulemap + shim.h, nothing vendored.
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(
            name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // isa-l's inflate (gzip layers) and libzstd's streaming decompression (zstd layers).
        .systemLibrary(name: "CIsal", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // glibc's sys/xattr.h: lsetxattr for Layers, llistxattr/lgetxattr for Disk.
        .systemLibrary(name: "CXattr"),
        // glibc's fallocate (needs _GNU_SOURCE): the ext4 and cpio writers punch released file data.
        .systemLibrary(name: "CFalloc"),
        // liblz4: the erofs writer's LZ4 and LZ4HC pclusters.
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),

        .target(name: "Migrations", exclude: ["README.md"]),
        .target(
            name: "ImageStore",
            dependencies: [
                "CSQLite", "CPostgres", "CCurl", "CArchive", "CCrypto", "CIsal", "CZstd", "CXattr", "CFalloc", "CLZ4", "Migrations",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            exclude: ["README.md"]
        ),
        .executableTarget(
            name: "ImageWorker",
            dependencies: [
                "ImageStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            exclude: ["README.md"]
        ),
        // bench/ext4-writer.sh: the native ext4 writer timed alone.
        .executableTarget(name: "EXT4Bench", dependencies: ["ImageStore"], path: "bench/EXT4Bench"),
        // bench/inflate.sh: reading one layer blob (inflate, tar scan, threaded tar scan) timed alone.
        .executableTarget(name: "InflateBench", dependencies: ["ImageStore"], path: "bench/InflateBench"),
        .testTarget(name: "MigrationsTests", dependencies: ["Migrations", "ImageStore", "TestSupport"]),
        .target(name: "TestSupport", dependencies: [], path: "Tests/TestSupport"),
        .testTarget(name: "ImageStoreTests", dependencies: ["ImageStore", "TestSupport", "CCrypto", "CXattr"]),
        .testTarget(name: "ImageWorkerTests", dependencies: ["ImageStore", "TestSupport"]),
    ]
)
