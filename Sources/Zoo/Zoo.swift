// Zoo: pretrained-model plumbing.
//
// - `VGG`, `TransferModel`, `BaselineCNN`: builders with Keras' layer names.
// - `KerasWeights`: load (`load(_:into:options:)`), inspect and save Keras weights files in
//   every layout of ARCHITECTURE.md §5 (`WeightsLayout`), errors as `WeightsError`.
// - `HDF5*` (internal): a locked, handle-owning wrapper over libhdf5 (the `CHDF5` C shim).
