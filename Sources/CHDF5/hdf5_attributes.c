/* See include/rubble_hdf5.h: attributes (Keras' layer_names, weight_names, versions). */
#include <stdlib.h>
#include <string.h>

#include "hdf5_private.h"

int rh5_attr_exists(rh5_id obj, const char *name) { return (int)H5Aexists(obj, name); }

static herr_t count_attribute(hid_t location, const char *name, const H5A_info_t *info, void *data) {
    (void)location; (void)name; (void)info;
    *(int64_t *)data += 1;
    return 0;
}

int64_t rh5_attr_count(rh5_id obj) {
    int64_t count = 0;
    hsize_t index = 0;
    if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &index, count_attribute, &count) < 0) return -1;
    return count;
}

int64_t rh5_attr_name(rh5_id obj, uint64_t index, char *buf, size_t cap) {
    return (int64_t)H5Aget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)index, buf, cap,
                                       H5P_DEFAULT);
}

/* Opens an attribute with its file type and element count; refuses one with more than
   RH5_MAX_ATTRIBUTE_ELEMENTS elements before anything is sized by that count. */
static hid_t open_attribute(hid_t obj, const char *name, hid_t *type, hssize_t *count) {
    rh5_clear_refusal();
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    if (attr < 0) return -1;
    *type = H5Aget_type(attr);
    hid_t space = H5Aget_space(attr);
    *count = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0) H5Sclose(space);
    if (*type < 0 || *count < 0) {
        SAVE_ERRORS(1);
        if (*type >= 0) H5Tclose(*type);
        H5Aclose(attr);
        RESTORE_ERRORS();
        return -1;
    }
    if ((uint64_t)*count > RH5_MAX_ATTRIBUTE_ELEMENTS) {
        H5Tclose(*type);
        H5Aclose(attr);
        return rh5_refuse(RH5_REFUSED_TOO_LARGE, name);
    }
    return attr;
}

int rh5_attr_info(rh5_id obj, const char *name, int *type_class, uint64_t *count) {
    hid_t type; hssize_t n;
    hid_t attr = open_attribute(obj, name, &type, &n);
    if (attr < 0) return -1;
    *type_class = class_of(type);
    *count = (uint64_t)n;
    H5Tclose(type);
    H5Aclose(attr);
    return 0;
}

int64_t rh5_attr_read_strings(rh5_id obj, const char *name, char **out, size_t *out_length) {
    *out = NULL;
    *out_length = 0;
    hid_t type; hssize_t n;
    hid_t attr = open_attribute(obj, name, &type, &n);
    if (attr < 0) return -1;
    int64_t result = -1;
    hid_t memtype = -1;
    char **pointers = NULL;
    char *raw = NULL, *joined = NULL;
    size_t total = 0;
    if (H5Tget_class(type) != H5T_STRING) goto done;
    if (n == 0) { result = 0; goto done; }
    memtype = H5Tcopy(H5T_C_S1);
    if (memtype < 0) goto done;
    /* HDF5 does not convert between character sets: read in the stored one. */
    H5Tset_cset(memtype, H5Tget_cset(type));
    if (H5Tis_variable_str(type) > 0) {
        H5Tset_size(memtype, H5T_VARIABLE);
        pointers = calloc((size_t)n, sizeof(char *));
        if (!pointers || H5Aread(attr, memtype, pointers) < 0) goto done;
        for (hssize_t i = 0; i < n; i++) {
            total += (pointers[i] ? strlen(pointers[i]) : 0) + 1;
            if (total > RH5_MAX_ATTRIBUTE_BYTES) break;
        }
        if (total <= RH5_MAX_ATTRIBUTE_BYTES) joined = malloc(total);
        if (joined) {
            size_t at = 0;
            for (hssize_t i = 0; i < n; i++) {
                size_t len = pointers[i] ? strlen(pointers[i]) : 0;
                if (len) memcpy(joined + at, pointers[i], len);
                joined[at + len] = 0;
                at += len + 1;
            }
        }
        for (hssize_t i = 0; i < n; i++) if (pointers[i]) H5free_memory(pointers[i]);
        if (total > RH5_MAX_ATTRIBUTE_BYTES) {
            rh5_refuse(RH5_REFUSED_TOO_LARGE, name);
            goto done;
        }
        if (!joined) goto done;
    } else {
        size_t size = H5Tget_size(type);
        if (size == 0) goto done;
        /* n <= 2^20 and size <= 64 MiB, so neither product overflows. */
        if (size > RH5_MAX_ATTRIBUTE_BYTES || (uint64_t)n * (size + 1) > RH5_MAX_ATTRIBUTE_BYTES) {
            rh5_refuse(RH5_REFUSED_TOO_LARGE, name);
            goto done;
        }
        H5Tset_size(memtype, size);
        H5Tset_strpad(memtype, H5Tget_strpad(type));
        raw = malloc((size_t)n * size);
        joined = malloc((size_t)n * (size + 1));
        if (!raw || !joined || H5Aread(attr, memtype, raw) < 0) goto done;
        size_t at = 0;
        for (hssize_t i = 0; i < n; i++) {
            const char *s = raw + (size_t)i * size;
            size_t len = 0;
            while (len < size && s[len]) len++;
            if (H5Tget_strpad(type) == H5T_STR_SPACEPAD) while (len > 0 && s[len - 1] == ' ') len--;
            memcpy(joined + at, s, len);
            joined[at + len] = 0;
            at += len + 1;
        }
        total = at;
    }
    *out = joined;
    *out_length = total;
    joined = NULL;
    result = (int64_t)n;
done:;
    SAVE_ERRORS(result < 0);
    free(joined);
    free(raw);
    free(pointers);
    if (memtype >= 0) H5Tclose(memtype);
    H5Tclose(type);
    H5Aclose(attr);
    RESTORE_ERRORS();
    return result;
}

static int64_t read_numbers(hid_t obj, const char *name, hid_t memtype, void *values, size_t cap,
                            size_t element) {
    hid_t type; hssize_t n;
    hid_t attr = open_attribute(obj, name, &type, &n);
    if (attr < 0) return -1;
    int64_t result = -1;
    int cls = class_of(type);
    void *buffer = NULL;
    if (cls != RH5_CLASS_INTEGER && cls != RH5_CLASS_FLOAT) goto done;
    if (n == 0) { result = 0; goto done; }
    buffer = malloc((size_t)n * element);
    if (!buffer || H5Aread(attr, memtype, buffer) < 0) goto done;
    memcpy(values, buffer, ((size_t)n < cap ? (size_t)n : cap) * element);
    result = (int64_t)n;
done:;
    SAVE_ERRORS(result < 0);
    free(buffer);
    H5Tclose(type);
    H5Aclose(attr);
    RESTORE_ERRORS();
    return result;
}

int64_t rh5_attr_read_i64(rh5_id obj, const char *name, int64_t *values, size_t cap) {
    return read_numbers(obj, name, H5T_NATIVE_INT64, values, cap, sizeof(int64_t));
}

int64_t rh5_attr_read_f64(rh5_id obj, const char *name, double *values, size_t cap) {
    return read_numbers(obj, name, H5T_NATIVE_DOUBLE, values, cap, sizeof(double));
}

static int write_attribute(hid_t obj, const char *name, hid_t file_type, hid_t mem_type, hid_t space,
                           const void *data) {
    if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0) return -1;
    hid_t attr = H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0) return -1;
    herr_t status = H5Awrite(attr, mem_type, data);
    SAVE_ERRORS(status < 0);
    if (H5Aclose(attr) < 0 && status >= 0) status = -1;
    RESTORE_ERRORS();
    return status < 0 ? -1 : 0;
}

int rh5_attr_write_strings(rh5_id obj, const char *name, const char *const *strings, size_t count,
                           int scalar, int utf8) {
    if (scalar && count != 1) return -1;
    hid_t type = H5Tcopy(H5T_C_S1);
    if (type < 0) return -1;
    int result = -1;
    hsize_t dims[1] = {(hsize_t)count};
    hid_t space = -1;
    if (H5Tset_size(type, H5T_VARIABLE) < 0) goto done;
    if (H5Tset_cset(type, utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII) < 0) goto done;
    space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    if (space < 0) goto done;
    result = write_attribute(obj, name, type, type, space, strings);
done:;
    SAVE_ERRORS(result < 0);
    if (space >= 0) H5Sclose(space);
    H5Tclose(type);
    RESTORE_ERRORS();
    return result;
}

int rh5_attr_write_empty(rh5_id obj, const char *name) {
    hsize_t dims[1] = {0};
    hid_t space = H5Screate_simple(1, dims, NULL);
    if (space < 0) return -1;
    double unused = 0;
    int result = write_attribute(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space, &unused);
    SAVE_ERRORS(result < 0);
    H5Sclose(space);
    RESTORE_ERRORS();
    return result;
}

int rh5_attr_write_i64(rh5_id obj, const char *name, const int64_t *values, size_t count) {
    hsize_t dims[1] = {(hsize_t)count};
    hid_t space = H5Screate_simple(1, dims, NULL);
    if (space < 0) return -1;
    int64_t unused = 0;
    int result = write_attribute(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, space,
                                 count ? (const void *)values : (const void *)&unused);
    SAVE_ERRORS(result < 0);
    H5Sclose(space);
    RESTORE_ERRORS();
    return result;
}
