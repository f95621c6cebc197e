/* libFuzzer harness for the Keras weights reader. It runs rh5_reader_walk
   (Sources/CHDF5/hdf5_preflight.c) in-process: the walk that drives the HDF5 shim exactly the
   way the Swift reader walks a file (Sources/KerasFiles/WeightsFile.swift, KerasH5Index.swift,
   Keras3Index.swift, HDF5*.swift) — signature, open, the structure check (100000 links,
   depth 32), the root's rubble_* metadata, `model_weights` or the root's `layer_names` (whole
   or split into layer_names0, 1, ...), each layer's group and `weight_names`, each weight's
   element type, shape, limits and storage, then its values; or Keras 3's `layers/.../vars/<i>`;
   and before all that every attribute of every object. The same walk is what the reader runs
   in a forked child before it touches a file (rh5_preflight). The tensor budget here is 64 MiB (the reader's default is 4 GiB) to stay
   within libFuzzer's memory limit. A Swift harness (swiftc -sanitize=fuzzer over KerasFiles, Tensor
   and Layers) was not built: this one covers the C the Swift code calls, in the same order. */
#include "fuzz_hdf5_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (fuzz_write_input(data, size) < 0) return 0;
    rh5_reader_walk(fuzz_input_path(), 100000, 32, (uint64_t)64 << 20, 1, 1);
    return 0;
}
