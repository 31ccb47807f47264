// swift-tools-version:6.0
// libFuzzer targets for every parser of ckpt, in their own package so that ckpt's builds never carry the
// fuzzer instrumentation. Built and run by scripts/fuzz (swift build -Xswiftc -sanitize=fuzzer,address).
import PackageDescription

let targets = ["FuzzGGUF", "FuzzSafetensors", "FuzzTorch", "FuzzSentencePiece", "FuzzJSON", "FuzzTokenizerJSON",
               "FuzzJinja", "FuzzJSONL"]

let package = Package(
    name: "ckpt-fuzz",
    dependencies: [.package(name: "ckpt", path: "..")],
    targets: [
        // libFuzzer's driver behind each target's entry point (SwiftPM renames an executable's main).
        .target(name: "FuzzDriver"),
    ] + targets.map { name in
        .executableTarget(name: name, dependencies: [
            "FuzzDriver", .product(name: "Formats", package: "ckpt"), .product(name: "Model", package: "ckpt"),
            .product(name: "Jinja", package: "ckpt"), .product(name: "Distill", package: "ckpt"),
        ])
    }
)
