// swift-tools-version:6.1
// Examples of Rubble used as a library. It depends on the Rubble package one folder up by
// path, and CI builds and runs it (scripts/check-examples.sh), so the examples cannot rot; the
// same script builds it once more against a tagged clone by version, as a user's package would.
import PackageDescription

let package = Package(
    name: "RubbleExamples",
    dependencies: [
        .package(name: "Rubble", path: ".."),
    ],
    targets: [
        // Trains a small CNN on tensors in memory, checks it learnt, exports it to Keras' layout
        // and reads it back (README "Use Rubble as a library").
        .executableTarget(name: "TrainInMemory", dependencies: [.product(name: "Rubble", package: "Rubble")]),
    ]
)
