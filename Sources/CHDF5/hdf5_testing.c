/* TEST-ONLY: writers of hostile HDF5 files for the regression tests (Tests/KerasFilesTests/
   HostileWeightsTests.swift and the fuzz seeds). Nothing in Rubble's reader or writer calls
   these; see the TEST-ONLY section of include/rubble_hdf5.h. */
#include <stdlib.h>
#include <string.h>

#include "hdf5_private.h"

static hid_t with_intermediate_groups(void) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl >= 0 && H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        H5Pclose(lcpl);
        return -1;
    }
    return lcpl;
}

static hid_t file_type(int element) {
    switch (element) {
    case 0: return H5T_IEEE_F32LE;
    case 1: return H5T_IEEE_F64LE;
    case 2: return H5T_STD_I32LE;
    default: return -1;
    }
}

/* Creates a dataset from a prepared creation property list and optionally writes values.
   max_dims NULL: fixed size. */
static int create_with(hid_t loc, const char *path, hid_t type, int rank, const hsize_t *dims, const hsize_t *max_dims,
                       hid_t dcpl, hid_t memtype, const void *values) {
    hid_t space = H5Screate_simple(rank, dims, max_dims);
    hid_t lcpl = with_intermediate_groups();
    int result = -1;
    if (space >= 0 && lcpl >= 0) {
        hid_t dataset = H5Dcreate2(loc, path, type, space, lcpl, dcpl, H5P_DEFAULT);
        if (dataset >= 0) {
            result = 0;
            if (values && H5Dwrite(dataset, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0) result = -1;
            H5Dclose(dataset);
        }
    }
    if (lcpl >= 0) H5Pclose(lcpl);
    if (space >= 0) H5Sclose(space);
    return result;
}

static int create(hid_t loc, const char *path, hid_t type, int rank, const hsize_t *dims, hid_t dcpl,
                  hid_t memtype, const void *values) {
    return create_with(loc, path, type, rank, dims, NULL, dcpl, memtype, values);
}

int rh5_test_create_unwritten(rh5_id loc, const char *path, int rank, const uint64_t *dims,
                              const uint64_t *chunk, int element) {
    if (rank < 1 || rank > H5S_MAX_RANK || file_type(element) < 0) return -1;
    hsize_t extents[H5S_MAX_RANK], chunks[H5S_MAX_RANK], max_dims[H5S_MAX_RANK];
    for (int i = 0; i < rank; i++) {
        extents[i] = (hsize_t)dims[i];
        chunks[i] = (hsize_t)chunk[i];
        /* A chunk larger than the extent needs an unlimited axis. */
        max_dims[i] = chunks[i] > extents[i] ? H5S_UNLIMITED : extents[i];
    }
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl < 0) return -1;
    int result = -1;
    if (H5Pset_chunk(dcpl, rank, chunks) >= 0 && H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_INCR) >= 0)
        result = create_with(loc, path, file_type(element), rank, extents, max_dims, dcpl, -1, NULL);
    H5Pclose(dcpl);
    return result;
}

int rh5_test_write_converted(rh5_id loc, const char *path, const float *values, uint64_t count, int element) {
    if (element != 1 && element != 2) return -1;
    hsize_t dims[1] = {(hsize_t)count};
    /* HDF5 converts the native floats to the file type while writing. */
    return create(loc, path, file_type(element), 1, dims, H5P_DEFAULT, H5T_NATIVE_FLOAT, values);
}

int rh5_test_link_soft(rh5_id loc, const char *path, const char *target) {
    return H5Lcreate_soft(target, loc, path, H5P_DEFAULT, H5P_DEFAULT) < 0 ? -1 : 0;
}

int rh5_test_link_external(rh5_id loc, const char *path, const char *file_name, const char *object_path) {
    return H5Lcreate_external(file_name, object_path, loc, path, H5P_DEFAULT, H5P_DEFAULT) < 0 ? -1 : 0;
}

int rh5_test_link_hard(rh5_id loc, const char *path, const char *target) {
    return H5Lcreate_hard(loc, target, loc, path, H5P_DEFAULT, H5P_DEFAULT) < 0 ? -1 : 0;
}

int rh5_test_create_virtual(rh5_id loc, const char *path, uint64_t count, const char *source_file,
                            const char *source_dataset) {
    hsize_t dims[1] = {(hsize_t)count};
    hid_t space = H5Screate_simple(1, dims, NULL);
    if (space < 0) return -1;
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int result = -1;
    if (dcpl >= 0 && H5Pset_virtual(dcpl, space, source_file, source_dataset, space) >= 0)
        result = create(loc, path, H5T_IEEE_F32LE, 1, dims, dcpl, -1, NULL);
    /* Always closed: libhdf5 1.10 crashes at exit on a leaked virtual dataset's property list. */
    if (dcpl >= 0) H5Pclose(dcpl);
    H5Sclose(space);
    return result;
}

int rh5_test_create_external_storage(rh5_id loc, const char *path, uint64_t count, const char *raw_file) {
    hsize_t dims[1] = {(hsize_t)count};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl < 0) return -1;
    int result = -1;
    if (H5Pset_external(dcpl, raw_file, 0, (hsize_t)(count * 4)) >= 0)
        result = create(loc, path, H5T_IEEE_F32LE, 1, dims, dcpl, -1, NULL);
    H5Pclose(dcpl);
    return result;
}

int rh5_test_commit_datatype(rh5_id loc, const char *path) {
    hid_t type = H5Tcopy(H5T_IEEE_F32LE);
    if (type < 0) return -1;
    int result = H5Tcommit2(loc, path, type, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) < 0 ? -1 : 0;
    H5Tclose(type);
    return result;
}

/* A do-nothing filter (id 32100, in the range reserved for third parties). */
#define TEST_FILTER_ID 32100
static size_t pass_through(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                           size_t *buf_size, void **buf) {
    (void)flags; (void)cd_nelmts; (void)cd_values; (void)buf_size; (void)buf;
    return nbytes;
}

int rh5_test_write_with_unknown_filter(rh5_id loc, const char *path, const float *values, uint64_t count) {
    const H5Z_class2_t filter = {H5Z_CLASS_T_VERS, TEST_FILTER_ID, 1, 1, "rubble test filter", NULL, NULL,
                                 pass_through};
    if (H5Zregister(&filter) < 0) return -1;
    hsize_t dims[1] = {(hsize_t)count};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int result = -1;
    if (dcpl >= 0 && H5Pset_chunk(dcpl, 1, dims) >= 0 &&
        H5Pset_filter(dcpl, TEST_FILTER_ID, H5Z_FLAG_MANDATORY, 0, NULL) >= 0)
        result = create(loc, path, H5T_IEEE_F32LE, 1, dims, dcpl, H5T_NATIVE_FLOAT, values);
    if (dcpl >= 0) H5Pclose(dcpl);
    H5Zunregister(TEST_FILTER_ID);
    return result;
}
