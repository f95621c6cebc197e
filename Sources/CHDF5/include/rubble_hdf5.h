#ifndef RUBBLE_HDF5_H
#define RUBBLE_HDF5_H

/* A thin C layer over libhdf5 (serial) for Swift.
 *
 * HDF5's C API leans on macros over global ids (H5P_DEFAULT, H5T_NATIVE_FLOAT, H5F_ACC_RDONLY
 * expand to H5open() calls and `_g` globals) and on variadic error hooks, none of which import
 * into Swift. These functions wrap exactly what the Keras weights reader/writer needs.
 *
 * This header is self-contained (no <hdf5.h>), so Swift code needs no HDF5 include path.
 * Ids are HDF5's hid_t (int64_t since 1.10). Functions returning int report failure as a
 * negative value; rh5_error_message then describes (and clears) HDF5's error stack.
 *
 * Not thread-safe by itself: the Swift side serialises every call with one lock.
 *
 * Hostile files (hostile input: Fuzz/README.md). Every function that takes a path inside the file checks
 * each component before following it: only hard links are followed; a soft, external or
 * user-defined link is refused without being traversed. Datasets are opened only after their
 * storage passed rh5_dataset_check (no virtual datasets, no external raw-data files, no filter
 * that would load a plugin); plugin loading is switched off altogether. A refused object makes
 * the call fail like an HDF5 error, and rh5_take_refusal says what was refused and where. */

#include <stddef.h>
#include <stdint.h>

typedef int64_t rh5_id;

/* What a hostile-input check refused (rh5_take_refusal). */
enum {
    RH5_REFUSED_NONE = 0,
    RH5_REFUSED_SOFT_LINK = 1,         /* a soft link (a path to another object) */
    RH5_REFUSED_EXTERNAL_LINK = 2,     /* a link into another file */
    RH5_REFUSED_USER_LINK = 3,         /* a user-defined link type */
    RH5_REFUSED_NAMED_DATATYPE = 4,    /* a committed datatype object */
    RH5_REFUSED_UNKNOWN_OBJECT = 5,    /* an object that is neither a group nor a dataset */
    RH5_REFUSED_SHARED_OBJECT = 6,     /* an object reachable by more than one hard link (cycles) */
    RH5_REFUSED_VIRTUAL_DATASET = 7,   /* a virtual dataset (its data lives in other files) */
    RH5_REFUSED_EXTERNAL_STORAGE = 8,  /* a dataset whose raw data is in external files */
    RH5_REFUSED_FILTER = 9,            /* a filter that is not built into libhdf5 (a plugin) */
    RH5_REFUSED_TOO_MANY_LINKS = 10,   /* more links than the check allows */
    RH5_REFUSED_TOO_DEEP = 11,         /* groups nested deeper than the check allows */
    RH5_REFUSED_ELEMENT_TYPE = 12,     /* read as float32 from a dataset that is not IEEE float32 */
    RH5_REFUSED_TOO_LARGE = 13,        /* an attribute, name or chunk over the limits below */
    RH5_REFUSED_NOT_STORED = 14,       /* a dataset whose data is not (fully) written in the file */
};

/* Limits on what an attribute may make the shim allocate. */
#define RH5_MAX_ATTRIBUTE_ELEMENTS ((uint64_t)1 << 20)
#define RH5_MAX_ATTRIBUTE_BYTES ((uint64_t)64 << 20)
/* Largest rank HDF5 allows (H5S_MAX_RANK). */
#define RH5_MAX_RANK 32

/* The kind (RH5_REFUSED_*) of the last refusal, with the refused object's path (relative to the
   location the failing call was given; from the root for rh5_file_check) copied into buf
   (truncated to cap - 1; for RH5_REFUSED_ELEMENT_TYPE the stored type's name, for
   RH5_REFUSED_TOO_LARGE on an attribute its name). Clears it. RH5_REFUSED_NONE when the last
   failure was not a refusal. */
int rh5_take_refusal(char *buf, size_t cap);

/* Walks every link below the root: 0 when all are hard links to groups and datasets, each object
   linked once, every dataset passing rh5_dataset_check, at most max_links links and at most
   max_depth levels of groups; else the RH5_REFUSED_* kind of the first problem (recorded for
   rh5_take_refusal); negative on an HDF5 error. Follows no soft or external link and opens
   no other file. */
int rh5_file_check(rh5_id file, uint64_t max_links, int max_depth);

/* The reader's walk: the calls KerasFiles' weights reader makes on a file, in its order (signature,
   open, rh5_file_check, the rubble_* metadata, the Keras 1/2 `layer_names` / `weight_names`
   tree or Keras 3's `layers/.../vars`, each weight's type, shape (within max_tensor_bytes, the
   checks of TensorLimits) and storage, and with read_values its data). With every_attribute,
   first every attribute of every object (the reader reads a few by name; libhdf5's attribute
   code is where fuzzing found crashes). Returns RH5_WALK_*. */
enum { RH5_WALK_OK = 0, RH5_WALK_ERROR = 1, RH5_WALK_OUT_OF_MEMORY = 2 };
int rh5_reader_walk(const char *path, uint64_t max_links, int max_depth, uint64_t max_tensor_bytes, int read_values,
                    int every_attribute);

/* Runs rh5_reader_walk (every attribute too) in a forked child (default crash signals, address
   space limited to what it has mapped plus max_tensor_bytes plus 1 GiB), waiting at most
   timeout_seconds (then killed):
   libhdf5 1.10 has crashes on malformed files (fuzzing: Fuzz/README.md), and this way a crash
   costs a child, not the caller. Returns RH5_PREFLIGHT_*; *detail: the signal (CRASHED), the
   timeout (TIMED_OUT) or errno (NO_CHILD). The child runs only C (libhdf5, libc): safe to
   call from a multi-threaded process holding the lock that serialises HDF5. */
enum {
    RH5_PREFLIGHT_OK = 0,
    RH5_PREFLIGHT_ERROR = 1,          /* the walk stopped at an error the reader will report */
    RH5_PREFLIGHT_CRASHED = 2,        /* the child died of a signal */
    RH5_PREFLIGHT_TIMED_OUT = 3,      /* killed after timeout_seconds */
    RH5_PREFLIGHT_OUT_OF_MEMORY = 4,  /* an allocation failed under the limit */
    RH5_PREFLIGHT_NO_CHILD = 5,       /* fork or waitpid failed */
};
int rh5_preflight(const char *path, uint64_t max_links, int max_depth, uint64_t max_tensor_bytes, int read_values,
                  int timeout_seconds, int *detail);

/* Opens the library and silences HDF5's own error printing for the calling thread.
   Call before every batch of calls (the silencing is per thread in thread-safe builds). */
int rh5_begin(void);

/* Writes the current error stack (most specific message first) into buf and clears it.
   Returns the message length (possibly truncated to cap - 1). */
size_t rh5_error_message(char *buf, size_t cap);

/* 1: an HDF5 file, 0: not one, negative: could not be checked (missing, unreadable). */
int rh5_is_hdf5(const char *path);

/* Files (opened with the "strong" close degree: closing the file closes its objects). */
rh5_id rh5_file_open(const char *path, int writable);
rh5_id rh5_file_create(const char *path);
int rh5_file_flush(rh5_id file);

/* Closes any id (file, group, dataset, attribute, dataspace, datatype, property list).
   Ids that are no longer valid are ignored (returns 0). */
int rh5_close(rh5_id id);

/* Groups and links. Paths are relative to loc and may have several components. */
rh5_id rh5_group_open(rh5_id loc, const char *path);
/* Creates a group, and any missing intermediate groups. */
rh5_id rh5_group_create(rh5_id loc, const char *path);
/* 1 if every component of path exists, 0 if not, negative on error. */
int rh5_exists(rh5_id loc, const char *path);
/* 1 group, 2 dataset, 3 other object, 0 missing, negative on error. */
int rh5_object_kind(rh5_id loc, const char *path);
/* Number of links in a group. */
int64_t rh5_child_count(rh5_id group);
/* The name of the index-th link (alphabetical order) into buf; returns its full length
   (call again with a larger buffer when it does not fit), negative on error. */
int64_t rh5_child_name(rh5_id group, uint64_t index, char *buf, size_t cap);

/* Attributes. */
int rh5_attr_exists(rh5_id obj, const char *name);
int64_t rh5_attr_count(rh5_id obj);
int64_t rh5_attr_name(rh5_id obj, uint64_t index, char *buf, size_t cap);

enum {
    RH5_CLASS_OTHER = 0,
    RH5_CLASS_STRING = 1,
    RH5_CLASS_INTEGER = 2,
    RH5_CLASS_FLOAT = 3,
};
/* The class (RH5_CLASS_*) and element count of an attribute; negative on error. */
int rh5_attr_info(rh5_id obj, const char *name, int *type_class, uint64_t *count);
/* Reads a string attribute (scalar or 1-D; fixed-length or variable-length) as count strings,
   each terminated by a NUL, into a malloc'd buffer (*out, *out_length bytes; free with
   rh5_free). Fixed-length strings lose their NUL/space padding. Returns count or negative. */
int64_t rh5_attr_read_strings(rh5_id obj, const char *name, char **out, size_t *out_length);
/* Reads a numeric attribute converted to int64 / double; returns the element count
   (values beyond cap are not written) or negative. */
int64_t rh5_attr_read_i64(rh5_id obj, const char *name, int64_t *values, size_t cap);
int64_t rh5_attr_read_f64(rh5_id obj, const char *name, double *values, size_t cap);

/* Writes (replacing) an attribute of variable-length strings: a scalar when scalar != 0
   (count must be 1), else 1-D. Encoding UTF-8 when utf8 != 0, else ASCII. */
int rh5_attr_write_strings(rh5_id obj, const char *name, const char *const *strings,
                           size_t count, int scalar, int utf8);
/* Writes (replacing) an empty 1-D float64 attribute: what h5py stores for an empty list. */
int rh5_attr_write_empty(rh5_id obj, const char *name);
int rh5_attr_write_i64(rh5_id obj, const char *name, const int64_t *values, size_t count);

void rh5_free(void *pointer);

/* Datasets. */
/* Opens a dataset whose path is all hard links and whose storage passes rh5_dataset_check. */
rh5_id rh5_dataset_open(rh5_id loc, const char *path);
/* 0 when the dataset's storage is safe to read: contiguous, compact or chunked in this file,
   with only libhdf5's built-in filters (deflate, shuffle, fletcher32, szip, nbit, scaleoffset)
   and chunks of at most max_chunk_bytes; else the RH5_REFUSED_* kind (recorded with `path`,
   used only for the record); negative on error. Never opens another file. */
int rh5_dataset_check(rh5_id dataset, const char *path, uint64_t max_chunk_bytes);
/* Rank (dims written up to cap), negative on error. A scalar dataset has rank 0. */
int rh5_dataset_shape(rh5_id dataset, uint64_t *dims, int cap);
/* RH5_CLASS_* of the stored element type, and its size in bytes. */
int rh5_dataset_type(rh5_id dataset, int *type_class, size_t *element_size);
/* 1 when the stored elements are IEEE 754 float32 (either byte order), 0 when not, negative on
   error; the type's name ("float32", "float64", "float16", "int32", "uint8", "string",
   "compound", ...) goes into buf (truncated to cap - 1). */
int rh5_dataset_element(rh5_id dataset, char *buf, size_t cap);
/* 1 when every element of the dataset is stored in the file (or it has none), 0 when some are
   not (unwritten chunks read as fill values), negative on error. */
int rh5_dataset_is_stored(rh5_id dataset);
/* Reads the whole dataset as native float; count must equal its element count. Refuses (see
   rh5_take_refusal) a dataset that is not IEEE float32, fails rh5_dataset_check or is not fully
   stored: nothing is converted from another type. */
int rh5_dataset_read_f32(rh5_id dataset, float *values, uint64_t count);
/* Creates a contiguous little-endian float32 dataset (and missing intermediate groups) and
   writes values. */
int rh5_dataset_write_f32(rh5_id loc, const char *path, int rank, const uint64_t *dims,
                          const float *values);

/* TEST-ONLY (hdf5_testing.c): writers of hostile files for the regression tests. Rubble's
   reader and writer never call them. Each returns 0 or negative on error. */
/* A chunked dataset with the given dims and chunk dims and no data written (so it can be far
   larger than the file; an axis whose chunk is larger than its extent is made unlimited);
   element: 0 float32, 1 float64, 2 int32. */
int rh5_test_create_unwritten(rh5_id loc, const char *path, int rank, const uint64_t *dims,
                              const uint64_t *chunk, int element);
/* A contiguous 1-D dataset of count values converted to float64 (element 1) or int32 (2). */
int rh5_test_write_converted(rh5_id loc, const char *path, const float *values, uint64_t count,
                             int element);
/* A soft link at path pointing to target. */
int rh5_test_link_soft(rh5_id loc, const char *path, const char *target);
/* An external link at path to object object_path of file file_name. */
int rh5_test_link_external(rh5_id loc, const char *path, const char *file_name, const char *object_path);
/* A second hard link at path to the object at target. */
int rh5_test_link_hard(rh5_id loc, const char *path, const char *target);
/* A 1-D float32 virtual dataset of count elements mapped onto source_dataset of source_file. */
int rh5_test_create_virtual(rh5_id loc, const char *path, uint64_t count, const char *source_file,
                            const char *source_dataset);
/* A 1-D float32 dataset of count elements whose raw data lives in the external file raw_file. */
int rh5_test_create_external_storage(rh5_id loc, const char *path, uint64_t count, const char *raw_file);
/* A committed (named) float32 datatype at path. */
int rh5_test_commit_datatype(rh5_id loc, const char *path);
/* A chunked 1-D float32 dataset of count values through a filter id that is not built in
   (registered only while writing, so reading needs a plugin). */
int rh5_test_write_with_unknown_filter(rh5_id loc, const char *path, const float *values, uint64_t count);

#endif
