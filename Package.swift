// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "image-worker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "image-worker", targets: ["ImageWorker"]),
        .executable(name: "ext4-writer-bench", targets: ["EXT4Bench"]),
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
            name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // glibc's sys/xattr.h: lsetxattr for Layers, llistxattr/lgetxattr for Disk.
        .systemLibrary(name: "CXattr"),
        // glibc's fallocate (needs _GNU_SOURCE): the ext4 writer punches released file data.
        .systemLibrary(name: "CFalloc"),
        // liblz4: the erofs writer's LZ4 and LZ4HC pclusters.
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),

        .target(name: "Migrations", exclude: ["README.md"]),
        .target(
            name: "ImageStore",
            dependencies: [
                "CSQLite", "CCurl", "CArchive", "CCrypto", "CXattr", "CFalloc", "CLZ4", "Migrations",
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
            ],
            exclude: ["README.md"]
        ),
        // bench/ext4-writer.sh: the native ext4 writer timed alone.
        .executableTarget(name: "EXT4Bench", dependencies: ["ImageStore"], path: "bench/EXT4Bench"),
        .testTarget(name: "MigrationsTests", dependencies: ["Migrations", "ImageStore"]),
        .target(name: "TestSupport", dependencies: [], path: "Tests/TestSupport"),
        .testTarget(name: "ImageStoreTests", dependencies: ["ImageStore", "TestSupport", "CCrypto", "CXattr"]),
        .testTarget(name: "ImageWorkerTests", dependencies: ["ImageStore", "TestSupport"]),
    ]
)
