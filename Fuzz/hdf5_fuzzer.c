/* libFuzzer harness for the HDF5 shim (Sources/CHDF5/) over libhdf5: every reading function
   of include/rubble_hdf5.h on an arbitrary file, whether or not the structure check passes —
   open, the file check, then a bounded walk of every group (links, kinds, attributes) opening
   and reading every dataset the checks let through. keras_reader_fuzzer.c walks a file the
   way the weights reader does instead. */
#include "fuzz_hdf5_common.h"

static void walk(rh5_id group, int depth) {
    fuzz_attributes(group);
    int64_t count = rh5_child_count(group);
    for (int64_t i = 0; i < count && i < 64; i++) {
        char *name = fuzz_name(rh5_child_name, group, (uint64_t)i);
        if (!name) continue;
        rh5_exists(group, name);
        int kind = rh5_object_kind(group, name);
        if (kind == 1 && depth < 8) {
            rh5_id child = rh5_group_open(group, name);
            if (child >= 0) {
                walk(child, depth + 1);
                rh5_close(child);
            }
        } else if (kind == 2) {
            rh5_id dataset = rh5_dataset_open(group, name);
            if (dataset >= 0) {
                int type_class = 0;
                size_t element_size = 0;
                rh5_dataset_type(dataset, &type_class, &element_size);
                fuzz_read_weight(dataset);
                rh5_close(dataset);
            }
        }
        fuzz_clear_errors();
        free(name);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (rh5_begin() < 0 || fuzz_write_input(data, size) < 0) return 0;
    const char *path = fuzz_input_path();
    if (rh5_is_hdf5(path) > 0) {
        rh5_id file = rh5_file_open(path, 0);
        if (file >= 0) {
            /* Walked whatever the check says, so the shim's functions also meet refused objects. */
            rh5_file_check(file, 100000, 32);
            fuzz_clear_errors();
            rh5_id root = rh5_group_open(file, "/");
            if (root >= 0) {
                walk(root, 0);
                rh5_close(root);
            }
            rh5_close(file);
        }
    }
    fuzz_clear_errors();
    return 0;
}
