// Zoo: model architectures with Keras' layer names and order.
//
// - `VGG`, `TransferModel`, `BaselineCNN`, `ResNet50`, `MobileNetV2`, `EfficientNet`: builders.
// - `Architecture`: builds any of them by name (the `rubble` tool's `--arch`).
//
// Keras weights files (load / inspect / save, HDF5) are the KerasFiles module's.
