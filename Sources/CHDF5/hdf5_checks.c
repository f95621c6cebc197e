/* See include/rubble_hdf5.h: the hostile-input checks (Fuzz/README.md). A weights file may
   come from anywhere, so before any object is opened every link on its path must be a hard link
   (soft, external and user-defined links are refused, not followed), and before any dataset is
   read its storage must be in this file with built-in filters only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdf5_private.h"

/* The last refusal. The Swift side serialises every call (one lock), so one record is enough. */
static struct {
    int kind;
    char path[1024];
} refusal;

int rh5_refuse(int kind, const char *path) {
    refusal.kind = kind;
    snprintf(refusal.path, sizeof refusal.path, "%s", path ? path : "");
    return -1;
}

void rh5_clear_refusal(void) {
    refusal.kind = RH5_REFUSED_NONE;
    refusal.path[0] = 0;
}

int rh5_take_refusal(char *buf, size_t cap) {
    int kind = refusal.kind;
    if (buf && cap) snprintf(buf, cap, "%s", refusal.path);
    rh5_clear_refusal();
    return kind;
}

/* Called by libhdf5 before it would open the target of an external link: never allowed. */
static herr_t refuse_external_link(const char *parent_file, const char *parent_group, const char *child_file,
                                   const char *child_object, unsigned *flags, hid_t fapl, void *data) {
    (void)parent_file; (void)child_object; (void)flags; (void)fapl; (void)data; (void)child_file;
    rh5_refuse(RH5_REFUSED_EXTERNAL_LINK, parent_group);
    return -1;
}

/* Link, group and dataset access property lists (the latter two inherit the link properties),
   each with the refusing external-link callback: a second line behind rh5_check_path. */
static hid_t hardened_access(hid_t *cache, hid_t cls) {
    if (*cache >= 0 && H5Iis_valid(*cache) > 0) return *cache;
    hid_t plist = H5Pcreate(cls);
    if (plist < 0) return -1;
    if (H5Pset_elink_cb(plist, refuse_external_link, NULL) < 0) {
        H5Pclose(plist);
        return -1;
    }
    *cache = plist;
    return plist;
}

static hid_t link_access = -1, group_access = -1, dataset_access = -1;

hid_t rh5_link_access(void) { return hardened_access(&link_access, H5P_LINK_ACCESS); }
hid_t rh5_group_access(void) { return hardened_access(&group_access, H5P_GROUP_ACCESS); }
hid_t rh5_dataset_access(void) { return hardened_access(&dataset_access, H5P_DATASET_ACCESS); }

static int refusal_for_link(H5L_type_t type) {
    switch (type) {
    case H5L_TYPE_HARD: return RH5_REFUSED_NONE;
    case H5L_TYPE_SOFT: return RH5_REFUSED_SOFT_LINK;
    case H5L_TYPE_EXTERNAL: return RH5_REFUSED_EXTERNAL_LINK;
    default: return RH5_REFUSED_USER_LINK;
    }
}

int rh5_check_path(hid_t loc, const char *path) {
    if (!path) return -1;
    hid_t lapl = rh5_link_access();
    if (lapl < 0) return -1;
    size_t n = strlen(path);
    char *prefix = malloc(n + 2);
    if (!prefix) return -1;
    size_t used = 0, i = 0;
    if (n > 0 && path[0] == '/') prefix[used++] = '/';
    prefix[used] = 0;
    int result = 1;
    /* One component at a time, so that no link is followed before its type is known. */
    while (i < n && result == 1) {
        while (i < n && path[i] == '/') i++;
        size_t start = i;
        while (i < n && path[i] != '/') i++;
        size_t length = i - start;
        if (length == 0) break;
        if (length == 1 && path[start] == '.') continue;
        if (used > 0 && prefix[used - 1] != '/') prefix[used++] = '/';
        memcpy(prefix + used, path + start, length);
        used += length;
        prefix[used] = 0;
        /* Negative: a component on the way is not a group (or the file is damaged): missing. */
        if (H5Lexists(loc, prefix, lapl) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            result = 0;
            break;
        }
        H5L_info_t info;
        if (H5Lget_info(loc, prefix, &info, lapl) < 0) {
            result = -1;
            break;
        }
        int kind = refusal_for_link(info.type);
        if (kind != RH5_REFUSED_NONE) result = rh5_refuse(kind, prefix);
    }
    free(prefix);
    return result;
}

int rh5_object_info(hid_t loc, const char *name, H5O_type_t *type, unsigned *link_count) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, rh5_link_access()) < 0) return -1;
#else
    H5O_info_t info;
    if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, rh5_link_access()) < 0) return -1;
#endif
    *type = info.type;
    *link_count = info.rc;
    return 0;
}

static int builtin_filter(H5Z_filter_t id) {
    return id == H5Z_FILTER_DEFLATE || id == H5Z_FILTER_SHUFFLE || id == H5Z_FILTER_FLETCHER32 ||
           id == H5Z_FILTER_SZIP || id == H5Z_FILTER_NBIT || id == H5Z_FILTER_SCALEOFFSET;
}

/* The RH5_REFUSED_* verdict on a dataset's creation properties (0: fine), negative on error. */
static int storage_verdict(hid_t dataset, hid_t dcpl, uint64_t max_chunk_bytes, H5Z_filter_t *filter) {
    H5D_layout_t layout = H5Pget_layout(dcpl);
    if (layout < 0) return -1;
    /* Checked before anything that would compute a virtual dataset's extent (which opens its
       source files). */
    if (layout == H5D_VIRTUAL) return RH5_REFUSED_VIRTUAL_DATASET;
    if (layout != H5D_CONTIGUOUS && layout != H5D_COMPACT && layout != H5D_CHUNKED) return RH5_REFUSED_UNKNOWN_OBJECT;
    int external = H5Pget_external_count(dcpl);
    if (external < 0) return -1;
    if (external > 0) return RH5_REFUSED_EXTERNAL_STORAGE;
    int filters = H5Pget_nfilters(dcpl);
    if (filters < 0) return -1;
    for (int i = 0; i < filters; i++) {
        unsigned flags = 0, config = 0;
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, NULL, NULL, 0, NULL, &config);
        if (id < 0) return -1;
        if (!builtin_filter(id)) {
            *filter = id;
            return RH5_REFUSED_FILTER;
        }
    }
    if (layout == H5D_CHUNKED) {
        hsize_t chunk[H5S_MAX_RANK];
        int rank = H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk);
        if (rank < 0 || rank > H5S_MAX_RANK) return -1;
        hid_t type = H5Dget_type(dataset);
        if (type < 0) return -1;
        uint64_t bytes = H5Tget_size(type);
        H5Tclose(type);
        /* Saturating: a chunk over max_chunk_bytes is refused, however large. */
        for (int i = 0; i < rank; i++) {
            if (chunk[i] != 0 && bytes > UINT64_MAX / chunk[i]) bytes = UINT64_MAX;
            else bytes *= chunk[i];
        }
        if (bytes > max_chunk_bytes) return RH5_REFUSED_TOO_LARGE;
    }
    return 0;
}

int rh5_dataset_check(rh5_id dataset, const char *path, uint64_t max_chunk_bytes) {
    rh5_clear_refusal();
    hid_t dcpl = H5Dget_create_plist(dataset);
    if (dcpl < 0) return -1;
    H5Z_filter_t filter = 0;
    int verdict = storage_verdict(dataset, dcpl, max_chunk_bytes, &filter);
    SAVE_ERRORS(verdict < 0);
    /* Always closed: libhdf5 1.10 crashes at exit on a leaked virtual dataset's property list. */
    H5Pclose(dcpl);
    RESTORE_ERRORS();
    if (verdict == RH5_REFUSED_FILTER) {
        char where[1100];
        snprintf(where, sizeof where, "%s (filter %d)", path ? path : "", (int)filter);
        rh5_refuse(verdict, where);
    } else if (verdict > 0) {
        rh5_refuse(verdict, path);
    }
    return verdict;
}

int rh5_dataset_element(rh5_id dataset, char *buf, size_t cap) {
    hid_t type = H5Dget_type(dataset);
    if (type < 0) return -1;
    char name[64];
    int is_f32 = 0;
    size_t bits = H5Tget_size(type) * 8;
    switch (H5Tget_class(type)) {
    case H5T_FLOAT:
        if (H5Tequal(type, H5T_IEEE_F32LE) > 0 || H5Tequal(type, H5T_IEEE_F32BE) > 0) {
            is_f32 = 1;
            snprintf(name, sizeof name, "float32");
        } else if (bits == 32) {
            snprintf(name, sizeof name, "float32 with a non-IEEE layout");
        } else {
            snprintf(name, sizeof name, "float%zu", bits);
        }
        break;
    case H5T_INTEGER:
        snprintf(name, sizeof name, "%s%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int", bits);
        break;
    case H5T_STRING: snprintf(name, sizeof name, "string"); break;
    case H5T_COMPOUND: snprintf(name, sizeof name, "compound"); break;
    case H5T_ENUM: snprintf(name, sizeof name, "enum"); break;
    case H5T_ARRAY: snprintf(name, sizeof name, "array"); break;
    case H5T_VLEN: snprintf(name, sizeof name, "variable-length sequence"); break;
    case H5T_REFERENCE: snprintf(name, sizeof name, "reference"); break;
    case H5T_OPAQUE: snprintf(name, sizeof name, "opaque"); break;
    case H5T_BITFIELD: snprintf(name, sizeof name, "bitfield"); break;
    case H5T_TIME: snprintf(name, sizeof name, "time"); break;
    default: snprintf(name, sizeof name, "unknown type"); break;
    }
    H5Tclose(type);
    H5Eclear2(H5E_DEFAULT);
    if (buf && cap) snprintf(buf, cap, "%s", name);
    return is_f32;
}

int rh5_dataset_is_stored(rh5_id dataset) {
    hid_t space = H5Dget_space(dataset);
    if (space < 0) return -1;
    hsize_t dims[H5S_MAX_RANK];
    int rank = H5Sget_simple_extent_ndims(space);
    hssize_t points = H5Sget_simple_extent_npoints(space);
    if (rank >= 0 && rank <= H5S_MAX_RANK && H5Sget_simple_extent_dims(space, dims, NULL) < 0) rank = -1;
    H5Sclose(space);
    if (points < 0 || rank < 0 || rank > H5S_MAX_RANK) return -1;
    if (points == 0) return 1;
    hid_t dcpl = H5Dget_create_plist(dataset);
    if (dcpl < 0) return -1;
    H5D_layout_t layout = H5Pget_layout(dcpl);
    hsize_t chunk[H5S_MAX_RANK];
    int chunk_rank = layout == H5D_CHUNKED ? H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk) : 0;
    H5Pclose(dcpl);
    if (layout == H5D_COMPACT) return 1;
    if (layout == H5D_CHUNKED) {
#if H5_VERSION_GE(1, 10, 5)
        /* Every chunk the extent needs must be written: H5Dget_space_status compares stored
           bytes with the full size, which compressed chunks never reach. */
        if (chunk_rank != rank) return -1;
        uint64_t needed = 1;
        for (int i = 0; i < rank; i++) {
            if (chunk[i] == 0) return -1;
            uint64_t along = dims[i] / chunk[i] + (dims[i] % chunk[i] != 0);
            if (along != 0 && needed > UINT64_MAX / along) return 0;
            needed *= along;
        }
        hsize_t written = 0;
        hid_t all = H5Dget_space(dataset);
        if (all < 0) return -1;
        herr_t status = H5Dget_num_chunks(dataset, all, &written);
        H5Sclose(all);
        if (status < 0) return -1;
        return (uint64_t)written >= needed ? 1 : 0;
#endif
    }
    if (layout != H5D_CONTIGUOUS && layout != H5D_CHUNKED) return -1;
    H5D_space_status_t status;
    if (H5Dget_space_status(dataset, &status) < 0) return -1;
    return status == H5D_SPACE_STATUS_ALLOCATED ? 1 : 0;
}

typedef struct {
    uint64_t links;
    uint64_t max_links;
    int max_depth;
    int verdict;
} file_walk;

static herr_t visit_link(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    file_walk *walk = data;
    int depth = 1;
    for (const char *c = name; *c; c++) depth += *c == '/';
    walk->links += 1;
    if (walk->links > walk->max_links) walk->verdict = RH5_REFUSED_TOO_MANY_LINKS;
    else if (depth > walk->max_depth) walk->verdict = RH5_REFUSED_TOO_DEEP;
    else walk->verdict = refusal_for_link(info->type);
    if (walk->verdict != RH5_REFUSED_NONE) {
        rh5_refuse(walk->verdict, name);
        return 1; /* stop the walk */
    }
    H5O_type_t type;
    unsigned link_count;
    if (rh5_object_info(group, name, &type, &link_count) < 0) return -1;
    if (link_count != 1) walk->verdict = RH5_REFUSED_SHARED_OBJECT;
    else if (type == H5O_TYPE_NAMED_DATATYPE) walk->verdict = RH5_REFUSED_NAMED_DATATYPE;
    else if (type != H5O_TYPE_GROUP && type != H5O_TYPE_DATASET) walk->verdict = RH5_REFUSED_UNKNOWN_OBJECT;
    if (walk->verdict != RH5_REFUSED_NONE) {
        rh5_refuse(walk->verdict, name);
        return 1;
    }
    if (type == H5O_TYPE_DATASET) {
        hid_t dataset = H5Dopen2(group, name, rh5_dataset_access());
        if (dataset < 0) return -1;
        int verdict = rh5_dataset_check(dataset, name, UINT64_MAX);
        SAVE_ERRORS(verdict < 0);
        H5Dclose(dataset);
        RESTORE_ERRORS();
        if (verdict < 0) return -1;
        if (verdict > 0) {
            walk->verdict = verdict;
            return 1;
        }
    }
    return 0;
}

int rh5_file_check(rh5_id file, uint64_t max_links, int max_depth) {
    rh5_clear_refusal();
    hid_t root = H5Gopen2(file, "/", rh5_group_access());
    if (root < 0) return -1;
    int result = 0;
    H5O_type_t type;
    unsigned link_count;
    if (rh5_object_info(root, ".", &type, &link_count) < 0) {
        result = -1;
    } else if (link_count > 1) {
        result = RH5_REFUSED_SHARED_OBJECT;
        rh5_refuse(result, "/");
    } else {
        file_walk walk = {0, max_links, max_depth, RH5_REFUSED_NONE};
        herr_t status = H5Lvisit(root, H5_INDEX_NAME, H5_ITER_INC, visit_link, &walk);
        if (walk.verdict != RH5_REFUSED_NONE) {
            result = walk.verdict;
            H5Eclear2(H5E_DEFAULT);
        } else if (status < 0) {
            result = -1;
        }
    }
    SAVE_ERRORS(result < 0);
    H5Gclose(root);
    RESTORE_ERRORS();
    return result;
}
