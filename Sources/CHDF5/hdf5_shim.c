/* See include/rubble_hdf5.h: files, groups, datasets and errors. Attributes are in
   hdf5_attributes.c. */
#include <stdlib.h>
#include <string.h>

#include "hdf5_private.h"

int rh5_begin(void) {
    static int plugins_off = 0;
    if (H5open() < 0) return -1;
    /* Errors become return values; the Swift side reads the stack with rh5_error_message. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    /* A filter id libhdf5 does not know would make it dlopen a plugin from HDF5_PLUGIN_PATH:
       never (rh5_dataset_check refuses such datasets anyway). */
    if (!plugins_off) {
        if (H5PLset_loading_state(0) < 0) return -1;
        plugins_off = 1;
    }
    return 0;
}

typedef struct {
    char *buf;
    size_t cap;
    size_t length;
    int entries;
} error_walk;

static void append(error_walk *walk, const char *text) {
    if (!text) return;
    size_t n = strlen(text);
    walk->length += n;
    if (!walk->buf || walk->cap == 0) return;
    size_t used = strlen(walk->buf);
    size_t room = walk->cap - 1 - used;
    if (room == 0) return;
    if (n > room) n = room;
    memcpy(walk->buf + used, text, n);
    walk->buf[used + n] = 0;
}

static herr_t collect_error(unsigned n, const H5E_error2_t *error, void *data) {
    (void)n;
    error_walk *walk = data;
    if (walk->entries >= 3) return 0;
    if (walk->entries > 0) append(walk, "; ");
    append(walk, error->desc ? error->desc : "unknown error");
    if (error->func_name) {
        append(walk, " (");
        append(walk, error->func_name);
        append(walk, ")");
    }
    walk->entries += 1;
    return 0;
}

size_t rh5_error_message(char *buf, size_t cap) {
    error_walk walk = {buf, cap, 0, 0};
    if (buf && cap) buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_error, &walk);
    H5Eclear2(H5E_DEFAULT);
    return buf && cap ? strlen(buf) : 0;
}

int rh5_is_hdf5(const char *path) { return (int)H5Fis_hdf5(path); }

static hid_t file_access(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    /* Closing the file closes every object still open in it. */
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
#if (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7) || \
    (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 12 && H5_VERS_RELEASE >= 1) || H5_VERS_MAJOR > 1 || H5_VERS_MINOR > 12
    /* Lock as usual, but do not fail on file systems where locking is disabled. */
    H5Pset_file_locking(fapl, 1, 1);
#endif
    return fapl;
}

rh5_id rh5_file_open(const char *path, int writable) {
    hid_t fapl = file_access();
    if (fapl < 0) return -1;
    hid_t file = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
    SAVE_ERRORS(file < 0);
    H5Pclose(fapl);
    RESTORE_ERRORS();
    return file;
}

rh5_id rh5_file_create(const char *path) {
    hid_t fapl = file_access();
    if (fapl < 0) return -1;
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    SAVE_ERRORS(file < 0);
    H5Pclose(fapl);
    RESTORE_ERRORS();
    return file;
}

int rh5_file_flush(rh5_id file) { return H5Fflush(file, H5F_SCOPE_GLOBAL) < 0 ? -1 : 0; }

int rh5_close(rh5_id id) {
    if (H5Iis_valid(id) <= 0) return 0;
    herr_t status;
    switch (H5Iget_type(id)) {
    case H5I_FILE: status = H5Fclose(id); break;
    case H5I_GROUP: status = H5Gclose(id); break;
    case H5I_DATASET: status = H5Dclose(id); break;
    case H5I_ATTR: status = H5Aclose(id); break;
    case H5I_DATASPACE: status = H5Sclose(id); break;
    case H5I_DATATYPE: status = H5Tclose(id); break;
    case H5I_GENPROP_LST: status = H5Pclose(id); break;
    default: status = H5Idec_ref(id); break;
    }
    return status < 0 ? -1 : 0;
}

rh5_id rh5_group_open(rh5_id loc, const char *path) {
    rh5_clear_refusal();
    if (rh5_check_path(loc, path) < 0) return -1;
    return H5Gopen2(loc, path, rh5_group_access());
}

static hid_t intermediate_groups(void) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl < 0) return -1;
    if (H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        H5Pclose(lcpl);
        return -1;
    }
    return lcpl;
}

rh5_id rh5_group_create(rh5_id loc, const char *path) {
    hid_t lcpl = intermediate_groups();
    if (lcpl < 0) return -1;
    hid_t group = H5Gcreate2(loc, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    SAVE_ERRORS(group < 0);
    H5Pclose(lcpl);
    RESTORE_ERRORS();
    return group;
}

int rh5_exists(rh5_id loc, const char *path) {
    rh5_clear_refusal();
    if (!path || !*path || strcmp(path, ".") == 0 || strcmp(path, "/") == 0) return 1;
    /* Every component must be a hard link (H5Lexists wants every intermediate link to exist,
       and would follow soft and external ones). */
    int result = rh5_check_path(loc, path);
    if (result == 1 && H5Oexists_by_name(loc, path, rh5_link_access()) <= 0) result = 0;
    if (result >= 0) H5Eclear2(H5E_DEFAULT);
    return result;
}

int rh5_object_kind(rh5_id loc, const char *path) {
    int exists = rh5_exists(loc, path);
    if (exists <= 0) return exists;
    H5O_type_t type;
    unsigned link_count;
    if (rh5_object_info(loc, path, &type, &link_count) < 0) return -1;
    switch (type) {
    case H5O_TYPE_GROUP: return 1;
    case H5O_TYPE_DATASET: return 2;
    default: return 3;
    }
}

int64_t rh5_child_count(rh5_id group) {
    H5G_info_t info;
    if (H5Gget_info(group, &info) < 0) return -1;
    return (int64_t)info.nlinks;
}

int64_t rh5_child_name(rh5_id group, uint64_t index, char *buf, size_t cap) {
    return (int64_t)H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)index, buf, cap,
                                       H5P_DEFAULT);
}

void rh5_free(void *pointer) { free(pointer); }

rh5_id rh5_dataset_open(rh5_id loc, const char *path) {
    rh5_clear_refusal();
    if (rh5_check_path(loc, path) < 0) return -1;
    hid_t dataset = H5Dopen2(loc, path, rh5_dataset_access());
    if (dataset < 0) return -1;
    /* Refused storage is never handed out, so nothing can read (or size) it by accident. */
    int verdict = rh5_dataset_check(dataset, path, UINT64_MAX);
    if (verdict != 0) {
        SAVE_ERRORS(verdict < 0);
        H5Dclose(dataset);
        RESTORE_ERRORS();
        return -1;
    }
    return dataset;
}

int rh5_dataset_shape(rh5_id dataset, uint64_t *dims, int cap) {
    hid_t space = H5Dget_space(dataset);
    if (space < 0) return -1;
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank >= 0) {
        hsize_t all[H5S_MAX_RANK];
        if (H5Sget_simple_extent_dims(space, all, NULL) < 0) {
            rank = -1;
        } else {
            for (int i = 0; i < rank && i < cap; i++) dims[i] = (uint64_t)all[i];
        }
    }
    SAVE_ERRORS(rank < 0);
    H5Sclose(space);
    RESTORE_ERRORS();
    return rank;
}

int rh5_dataset_type(rh5_id dataset, int *type_class, size_t *element_size) {
    hid_t type = H5Dget_type(dataset);
    if (type < 0) return -1;
    *type_class = class_of(type);
    *element_size = H5Tget_size(type);
    H5Tclose(type);
    return 0;
}

int rh5_dataset_read_f32(rh5_id dataset, float *values, uint64_t count) {
    /* Chunks may be as large as the data, and at least 64 MiB (libhdf5 allocates one to read). */
    uint64_t data_bytes = count > UINT64_MAX / 4 ? UINT64_MAX : count * 4;
    uint64_t max_chunk = data_bytes > ((uint64_t)64 << 20) ? data_bytes : ((uint64_t)64 << 20);
    if (rh5_dataset_check(dataset, "", max_chunk) != 0) return -1;
    char type_name[64];
    int is_f32 = rh5_dataset_element(dataset, type_name, sizeof type_name);
    if (is_f32 < 0) return -1;
    if (!is_f32) {
        /* One exception: a single integer (Keras' Normalization layer keeps its sample `count`
           as an int64 scalar), which libhdf5 converts to float exactly up to 2^24. */
        hid_t type = H5Dget_type(dataset);
        if (type < 0) return -1;
        int integer = H5Tget_class(type) == H5T_INTEGER;
        H5Tclose(type);
        if (!(integer && count == 1)) return rh5_refuse(RH5_REFUSED_ELEMENT_TYPE, type_name);
    }
    hid_t space = H5Dget_space(dataset);
    if (space < 0) return -1;
    hssize_t n = H5Sget_simple_extent_npoints(space);
    H5Sclose(space);
    if (n < 0 || (uint64_t)n != count) return -1;
    if (n == 0) return 0;
    int stored = rh5_dataset_is_stored(dataset);
    if (stored < 0) return -1;
    if (!stored) return rh5_refuse(RH5_REFUSED_NOT_STORED, "");
    if (!values) return -1;
    return H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0 ? -1 : 0;
}

int rh5_dataset_write_f32(rh5_id loc, const char *path, int rank, const uint64_t *dims,
                          const float *values) {
    if (rank < 0 || rank > H5S_MAX_RANK) return -1;
    hsize_t extents[H5S_MAX_RANK];
    hsize_t count = 1;
    for (int i = 0; i < rank; i++) { extents[i] = (hsize_t)dims[i]; count *= extents[i]; }
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, extents, NULL);
    if (space < 0) return -1;
    hid_t lcpl = intermediate_groups();
    if (lcpl < 0) { H5Sclose(space); return -1; }
    int result = -1;
    hid_t dataset = H5Dcreate2(loc, path, H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (dataset >= 0) {
        result = 0;
        if (count > 0 && H5Dwrite(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0)
            result = -1;
        SAVE_ERRORS(result < 0);
        if (H5Dclose(dataset) < 0 && result == 0) result = -1;
        RESTORE_ERRORS();
    }
    SAVE_ERRORS(result < 0);
    H5Pclose(lcpl);
    H5Sclose(space);
    RESTORE_ERRORS();
    return result;
}
