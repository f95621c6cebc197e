/* Shared by the CHDF5 C files; not part of the module's public header. */
#ifndef RUBBLE_HDF5_PRIVATE_H
#define RUBBLE_HDF5_PRIVATE_H

/* Debian/Ubuntu install the serial headers under hdf5/serial/ (hdf5.h includes its siblings
   with quotes, so no -I flag is needed); elsewhere they are usually on the default path. */
#if __has_include(<hdf5/serial/hdf5.h>)
#include <hdf5/serial/hdf5.h>
#else
#include <hdf5.h>
#endif

#include "rubble_hdf5.h"

/* Every HDF5 API call clears the error stack on entry, so a failure's stack is saved before
   cleaning up (closing property lists, types, ...) and put back afterwards, for
   rh5_error_message to report the real cause. */
#define SAVE_ERRORS(failed) hid_t saved_errors_ = (failed) ? H5Eget_current_stack() : -1
#define RESTORE_ERRORS() do { if (saved_errors_ >= 0) H5Eset_current_stack(saved_errors_); } while (0)

/* hdf5_checks.c: the hostile-input checks (see rubble_hdf5.h). */
/* Records a refusal for rh5_take_refusal; returns -1 for the caller to return. */
int rh5_refuse(int kind, const char *path);
void rh5_clear_refusal(void);
/* A link-access property list whose external-link callback refuses every traversal (closed
   by the library at exit). */
hid_t rh5_link_access(void);
hid_t rh5_group_access(void);
hid_t rh5_dataset_access(void);
/* 1 when every component of path is an existing hard link, 0 when one is missing, negative
   when one is another kind of link (refused, recorded) or on error. */
int rh5_check_path(hid_t loc, const char *path);
/* The object type and hard-link count of loc/name (name must already have passed rh5_check_path). */
int rh5_object_info(hid_t loc, const char *name, H5O_type_t *type, unsigned *link_count);

static inline int class_of(hid_t type) {
    switch (H5Tget_class(type)) {
    case H5T_STRING: return RH5_CLASS_STRING;
    case H5T_INTEGER: return RH5_CLASS_INTEGER;
    case H5T_FLOAT: return RH5_CLASS_FLOAT;
    default: return RH5_CLASS_OTHER;
    }
}

#endif
