// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Rubble",
    products: [
        // One import for the common case: re-exports every library module below.
        .library(name: "Rubble", targets: ["Rubble"]),
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "Layers", targets: ["Layers"]),
        .library(name: "Train", targets: ["Train"]),
        .library(name: "Zoo", targets: ["Zoo"]),
        .library(name: "KerasFiles", targets: ["KerasFiles"]),
        .library(name: "Vision", targets: ["Vision"]),
        .library(name: "Inference", targets: ["Inference"]),
        .library(name: "Markup", targets: ["Markup"]),
        .library(name: "Digest", targets: ["Digest"]),
        .library(name: "GradCAM", targets: ["GradCAM"]),
        .library(name: "AtomicFiles", targets: ["AtomicFiles"]),
        .library(name: "KernelBench", targets: ["KernelBench"]),
        .library(name: "Screening", targets: ["Screening"]),
        .library(name: "SQLiteStore", targets: ["SQLiteStore"]),
        .library(name: "PostgresStore", targets: ["PostgresStore"]),
        .library(name: "ScreeningServer", targets: ["ScreeningServer"]),
        .library(name: "Demo", targets: ["Demo"]),
        .library(name: "HuggingFaceFiles", targets: ["HuggingFaceFiles"]),
        .library(name: "Segmentation", targets: ["Segmentation"]),
        .library(name: "SegmentationTraining", targets: ["SegmentationTraining"]),
        .library(name: "Depth", targets: ["Depth"]),
        .executable(name: "rubble", targets: ["rubble"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The screening store's drivers: only the SQLiteStore / PostgresStore targets (and the
        // `rubble` tool) build them; Tensor, Layers, Train, Screening ... never do.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.60.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        // `rubble serve` only: the HTTP server and the Prometheus text format of /metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        .target(name: "Rubble", dependencies: ["Tensor", "Layers", "Train", "Zoo", "KerasFiles", "Vision", "Inference", "Markup", "Digest",
                                           "GradCAM", "Screening", "Demo", "AtomicFiles", "HuggingFaceFiles", "Segmentation",
                                           "SegmentationTraining", "Depth"]),
        // OpenBLAS, loaded with dlopen after the core type is chosen (ARCHITECTURE.md §4).
        .target(name: "CBLAS", linkerSettings: [.linkedLibrary("dl")]),
        // Softmax rows, GELU, layer norm, resized sums: AVX-512 / AVX2 / portable, chosen at run time.
        .target(name: "CKernels"),
        .target(name: "Tensor", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "Layers", dependencies: ["Tensor", "CKernels"]),
        // Trains and evaluates; writes weights files only through the caller's `saveWeights`.
        .target(name: "Train", dependencies: ["Tensor", "Layers", "Vision", "Inference", "Markup", "Digest", "AtomicFiles"]),
        // Writes files under a temporary name and renames them, so a crash never leaves half a file.
        .target(name: "AtomicFiles"),
        // libhdf5 (serial), libjpeg-turbo, libpng and libexif: small C shims (setjmp error handling, macros).
        .target(name: "CHDF5", linkerSettings: [.linkedLibrary("hdf5_serial")]),
        .target(name: "CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png16")]),
        // libexif: the Exif APP1 segment of a JPEG (found by a bounded marker walk), read under a memory budget.
        .target(name: "CEXIF", linkerSettings: [.linkedLibrary("exif")]),
        // Model architectures with Keras' layer names (VGG, ResNet50, MobileNetV2, EfficientNet, ...).
        .target(name: "Zoo", dependencies: ["Tensor", "Layers"]),
        // Keras weights files (HDF5: every layout of ARCHITECTURE.md §5) in and out, and their metadata.
        .target(name: "KerasFiles", dependencies: ["Tensor", "Layers", "CHDF5", "AtomicFiles"]),
        .target(name: "Vision", dependencies: ["Tensor", "CJPEG", "CPNG", "CEXIF", "AtomicFiles"]),
        // Photos to class probabilities: ImagePipeline (decode, resize, preprocess), ImagePredictor.
        .target(name: "Inference", dependencies: ["Tensor", "Layers", "Vision"]),
        // The text formats Train and Screening share: the escaper of the SVG plots and the HTML
        // report, CSV fields and records, file names shown with \xHH escapes.
        .target(name: "Markup"),
        // SHA-256 of file bytes: Screening's exact duplicates, Train's verified photos against --data.
        .target(name: "Digest"),
        .target(name: "GradCAM", dependencies: ["Tensor", "Layers", "Vision", "AtomicFiles"]),
        // Screening a stream of photos: perceptual-hash de-duplication, filters, classification,
        // explanation and the human-verification report.
        .target(name: "Screening", dependencies: ["Tensor", "Layers", "Vision", "Inference", "Markup", "Digest", "GradCAM",
                                                  "AtomicFiles"]),
        // The screening store on SQLite (GRDB, the system's libsqlite3): embedded, the default.
        .target(name: "SQLiteStore", dependencies: ["Screening", .product(name: "GRDB", package: "GRDB.swift")]),
        // The screening store on PostgreSQL (postgres-nio): several machines on one stream.
        .target(name: "PostgresStore", dependencies: [
            "Screening", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // `rubble serve`: photos in over HTTP (Hummingbird 2), accounts, the live verification page
        // and its map, /metrics. Only this target and the `rubble` tool build the web server.
        .target(name: "ScreeningServer", dependencies: [
            "Screening", "Vision", "Markup", "Digest",
            .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
        ], resources: [
            .embedInCode("Page/index.html"), .embedInCode("Page/app.js"), .embedInCode("Page/app.css"),
            .embedInCode("Page/world.json"),
            .embedInCode("Page/api.js"), .embedInCode("Page/gallery.js"), .embedInCode("Page/map.js"),
            .embedInCode("Page/team.js"),
        ]),
        // `rubble demo`: synthetic scenes, the baseline CNN trained, evaluated and saved as Keras files.
        .target(name: "Demo", dependencies: ["Tensor", "Layers", "Vision", "Inference", "Train", "Zoo", "KerasFiles",
                                           "HuggingFaceFiles", "Segmentation", "SegmentationTraining"]),
        // Hugging Face model folders: safetensors in and out, config.json and preprocessor_config.json.
        .target(name: "HuggingFaceFiles", dependencies: ["Tensor", "AtomicFiles"]),
        // Damage severity by semantic segmentation: SegFormer, per-pixel training, metrics, the severity score.
        .target(name: "Segmentation", dependencies: ["Tensor", "Layers", "Vision", "HuggingFaceFiles", "AtomicFiles"]),
        // Fine-tuning SegFormer: the trainer, its checkpoints, history and evaluation (on Train's optimizers).
        .target(name: "SegmentationTraining", dependencies: ["Tensor", "Layers", "Vision", "Train", "HuggingFaceFiles",
                                                             "Segmentation", "AtomicFiles"]),
        // Monocular depth: Depth Anything (DINOv2 + DPT) from Hugging Face folders, its preprocessing and inference.
        .target(name: "Depth", dependencies: ["Tensor", "CKernels", "Layers", "Vision", "HuggingFaceFiles", "Segmentation"]),
        // The conv and sgemm cases timed by `rubble bench` and by the `Benchmarks/` suites.
        .target(name: "KernelBench", dependencies: ["Tensor", "Layers"]),
        .executableTarget(
            name: "rubble",
            dependencies: [
                "Tensor", "Layers", "Train", "Zoo", "KerasFiles", "Vision", "Inference", "GradCAM", "KernelBench",
                "AtomicFiles", "Screening", "Demo", "HuggingFaceFiles", "Segmentation", "SegmentationTraining", "Depth",
                "SQLiteStore", "PostgresStore", "ScreeningServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Fixture loading (.npy) and finite-difference checking shared by the test targets.
        .target(name: "TestSupport", dependencies: ["Tensor", "Layers"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "CKernels", "TestSupport"]),
        .testTarget(name: "LayersTests", dependencies: ["Tensor", "Layers", "TestSupport"]),
        .testTarget(name: "TrainTests", dependencies: ["Tensor", "Layers", "Train", "Inference", "Zoo", "KerasFiles", "Vision", "AtomicFiles",
                                                     "Markup", "Digest", "TestSupport"]),
        .testTarget(name: "DemoTests", dependencies: ["Tensor", "Layers", "Train", "Inference", "Zoo", "KerasFiles", "Vision", "Demo", "TestSupport"]),
        .testTarget(name: "ZooTests", dependencies: ["Tensor", "Layers", "Zoo", "TestSupport"]),
        .testTarget(name: "KerasFilesTests", dependencies: ["Tensor", "Layers", "Zoo", "KerasFiles", "CHDF5", "TestSupport"]),
        .testTarget(name: "VisionTests", dependencies: ["Tensor", "Vision", "CEXIF", "TestSupport"]),
        .testTarget(name: "InferenceTests", dependencies: ["Tensor", "Layers", "Vision", "Inference"]),
        .testTarget(name: "MarkupTests", dependencies: ["Markup"]),
        // Runs the built `rubble` tool as a user would.
        .testTarget(name: "CLITests", dependencies: ["rubble", "Tensor", "Layers", "Train", "Inference", "Zoo", "KerasFiles", "Vision", "TestSupport"]),
        // With the store on SQLite and (with RUBBLE_POSTGRES_URL, as .ci/run sets it) PostgreSQL: queue, leases, workers.
        .testTarget(name: "ScreeningTests", dependencies: ["Tensor", "Layers", "Vision", "Inference", "Zoo", "KerasFiles", "GradCAM", "Screening",
                                                           "SQLiteStore", "PostgresStore", "TestSupport"]),
        // ResNet50, MobileNetV2 and EfficientNet against tf_keras: inference, Grad-CAM, training steps.
        .testTarget(name: "BackboneTests", dependencies: ["Tensor", "Layers", "Train", "Zoo", "KerasFiles", "GradCAM", "TestSupport"]),
        .testTarget(name: "HuggingFaceFilesTests", dependencies: ["Tensor", "HuggingFaceFiles", "TestSupport"]),
        // SegFormer against transformers + PyTorch: stage outputs, logits, losses, one SGD and one AdamW step.
        .testTarget(name: "SegmentationTests", dependencies: ["Tensor", "Layers", "Vision", "Train", "HuggingFaceFiles", "Segmentation", "Demo", "TestSupport"]),
        .testTarget(name: "SegmentationTrainingTests", dependencies: ["Tensor", "Layers", "Vision", "Train", "HuggingFaceFiles", "Segmentation",
                                                                      "SegmentationTraining", "Demo", "TestSupport"]),
        // Depth Anything against transformers + PyTorch: predicted depth, position embeddings, preprocessing.
        .testTarget(name: "DepthTests", dependencies: ["Tensor", "Layers", "Vision", "HuggingFaceFiles", "Segmentation", "Depth",
                                                       "TestSupport"]),
        .testTarget(name: "GradCAMTests", dependencies: ["Tensor", "Layers", "Train", "Zoo", "KerasFiles", "Vision", "GradCAM", "TestSupport"]),
    ]
)
