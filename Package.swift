// swift-tools-version:6.0
// ckpt: read, convert, distill, quantize and export language-model checkpoints.
// Layout and dependency direction: Formats, Jinja <- Model <- {Convert, Distill} <- tools.
import PackageDescription

let package = Package(
    name: "ckpt",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ckpt", targets: ["ckpt"]),
        .library(name: "Formats", targets: ["Formats"]),
        .library(name: "Model", targets: ["Model"]),
        // For Fuzz/ (libFuzzer targets built in their own package, so normal builds are unaffected).
        .library(name: "Jinja", targets: ["Jinja"]),
        .library(name: "Distill", targets: ["Distill"]),
    ],
    dependencies: [
        // Only the command line parses arguments; nothing else depends on a package.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries, each living inside the folder of the target that uses it
        // and excluded from that target's sources.
        .systemLibrary(name: "CZlib", path: "Sources/Formats/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CProtobufC", path: "Sources/Formats/CProtobufC", pkgConfig: "libprotobuf-c",
                       providers: [.apt(["libprotobuf-c-dev"])]),

        // protoc-c output for SentencePiece's tokenizer.model (scripts/regenerate-protobuf), committed.
        .target(name: "CSentencePiece", dependencies: ["CProtobufC"], path: "Sources/Formats/CSentencePiece",
                exclude: ["sentencepiece_model.proto"]),
        // f32 → f16/bf16 narrowing and transposing (F16C/AVX2 chosen at run time, portable fallback).
        .target(name: "CFloatRows", path: "Sources/Formats/CFloatRows"),
        // GNU system calls the Glibc module does not expose (fallocate).
        .target(name: "CPlatform", path: "Sources/Formats/CPlatform"),
        .target(name: "Formats", dependencies: ["CZlib", "CProtobufC", "CSentencePiece", "CFloatRows", "CPlatform"],
                exclude: ["CZlib", "CProtobufC", "CSentencePiece", "CFloatRows", "CPlatform"]),
        // CBLAS and OpenBLAS calls, libopenblas opened on the first one (most commands never multiply).
        .target(name: "CBLAS", path: "Sources/Model/CBLAS"),
        // Quantized-weight dot products for decoding (AVX2 chosen at run time, portable fallback).
        .target(name: "CKernels", path: "Sources/Model/CKernels"),
        // Chat templates: a Jinja interpreter with jinja2's semantics under transformers' settings; no dependencies.
        .target(name: "Jinja"),
        .target(name: "Model", dependencies: ["Formats", "CBLAS", "CKernels", "Jinja"],
                exclude: ["CBLAS", "CKernels"]),
        .target(name: "Convert", dependencies: ["Formats", "Model"]),
        .target(name: "Distill", dependencies: ["Formats", "Model"]),
        .executableTarget(name: "ckpt",
                          dependencies: ["Formats", "Model", "Convert", "Distill",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Sources/tools"),

        // What every test target shares: the repository's fixtures (found through #filePath, so goldens stay
        // where fixtures/README.md documents them), scratch paths, hex goldens, the fetched test data.
        .target(name: "TestSupport", dependencies: ["Formats"], path: "Tests/TestSupport"),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "TestSupport"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Jinja", "TestSupport"]),
        .testTarget(name: "ConvertTests", dependencies: ["Convert", "Formats", "Model", "TestSupport"]),
        .testTarget(name: "DistillTests", dependencies: ["Distill", "Formats", "Model", "TestSupport"]),
        // Runs the built `ckpt` binary: exit codes and error lines as users see them.
        .testTarget(name: "ToolsTests", dependencies: ["ckpt", "Formats", "Model", "Convert", "Distill", "TestSupport"]),
    ]
)
