/* Shared by the HDF5 harnesses: libFuzzer hands over bytes, the shim opens paths (as the reader
   does), so each input is written to one file per process in /dev/shm (or $TMPDIR). */
#ifndef RUBBLE_FUZZ_HDF5_COMMON_H
#define RUBBLE_FUZZ_HDF5_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rubble_hdf5.h"

__attribute__((unused)) static const char *fuzz_input_path(void) {
    static char path[512];
    if (!path[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        snprintf(path, sizeof path, "%s/rubble-fuzz-%d.h5", dir, (int)getpid());
    }
    return path;
}

__attribute__((unused)) static int fuzz_write_input(const uint8_t *data, size_t size) {
    FILE *f = fopen(fuzz_input_path(), "wb");
    if (!f) return -1;
    size_t written = size ? fwrite(data, 1, size, f) : 0;
    fclose(f);
    return written == size ? 0 : -1;
}

/* A name read the way HDF5Group.readName does: length first, then the bytes. */
__attribute__((unused)) static char *fuzz_name(int64_t (*read)(rh5_id, uint64_t, char *, size_t), rh5_id id, uint64_t index) {
    int64_t length = read(id, index, NULL, 0);
    if (length < 0 || length > (1 << 16)) return NULL;
    char *name = calloc((size_t)length + 1, 1);
    if (!name) return NULL;
    if (read(id, index, name, (size_t)length + 1) < 0) {
        free(name);
        return NULL;
    }
    return name;
}

/* Reads every attribute of an object as the Swift side would (info, then strings or numbers). */
__attribute__((unused)) static void fuzz_attributes(rh5_id obj) {
    int64_t count = rh5_attr_count(obj);
    for (int64_t i = 0; i < count && i < 64; i++) {
        char *name = fuzz_name(rh5_attr_name, obj, (uint64_t)i);
        if (!name) continue;
        int type_class = 0;
        uint64_t elements = 0;
        if (rh5_attr_exists(obj, name) > 0 && rh5_attr_info(obj, name, &type_class, &elements) >= 0) {
            if (type_class == RH5_CLASS_STRING) {
                char *joined = NULL;
                size_t length = 0;
                int64_t n = rh5_attr_read_strings(obj, name, &joined, &length);
                /* The Swift side splits `length` bytes at NULs: touch them all. */
                volatile size_t zeros = 0;
                for (size_t k = 0; n > 0 && joined && k < length; k++) zeros += joined[k] == 0;
                rh5_free(joined);
            } else if (type_class == RH5_CLASS_INTEGER || type_class == RH5_CLASS_FLOAT) {
                size_t cap = elements ? (size_t)elements : 1;
                int64_t *ints = calloc(cap, sizeof *ints);
                double *doubles = calloc(cap, sizeof *doubles);
                if (ints) rh5_attr_read_i64(obj, name, ints, cap);
                if (doubles) rh5_attr_read_f64(obj, name, doubles, cap);
                free(ints);
                free(doubles);
            }
        }
        free(name);
        char message[256];
        rh5_error_message(message, sizeof message);
        rh5_take_refusal(message, sizeof message);
    }
}

/* The checks the Swift side (WeightsArchive.weightShape and HDF5Dataset.read) runs before it
   allocates, then the read. The budget is 64 MiB here (the reader's default is 4 GiB) to stay
   inside libFuzzer's memory limit. Returns the number of values read. */
__attribute__((unused)) static uint64_t fuzz_read_weight(rh5_id dataset) {
    const uint64_t budget = (uint64_t)64 << 20;
    char type[64];
    if (rh5_dataset_element(dataset, type, sizeof type) != 1) return 0;
    uint64_t dims[RH5_MAX_RANK];
    int rank = rh5_dataset_shape(dataset, dims, RH5_MAX_RANK);
    if (rank < 0 || rank > 8) return 0;
    uint64_t count = 1, guard = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] > (uint64_t)INT64_MAX) return 0;
        uint64_t d = dims[i] ? dims[i] : 1;
        if (guard > UINT64_MAX / d) return 0;
        guard *= d;
        count *= dims[i];
    }
    if (guard > (uint64_t)INT64_MAX / 4 || count * 4 > budget) return 0;
    if (rh5_dataset_check(dataset, "", budget) != 0) return 0;
    if (rh5_dataset_is_stored(dataset) != 1) return 0;
    float *values = malloc(count ? count * sizeof(float) : 1);
    if (!values) return 0;
    uint64_t read = 0;
    if (rh5_dataset_read_f32(dataset, values, count) >= 0) {
        volatile int bad = 0;
        for (uint64_t i = 0; i < count; i++) bad += values[i] != values[i];
        read = count;
    }
    free(values);
    return read;
}

__attribute__((unused)) static void fuzz_clear_errors(void) {
    char message[256];
    rh5_error_message(message, sizeof message);
    rh5_take_refusal(message, sizeof message);
}

#endif
