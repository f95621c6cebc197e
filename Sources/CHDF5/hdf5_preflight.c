/* See include/rubble_hdf5.h: the reader's walk over a weights file, and the preflight that runs
   it in a child process first (hostile input: Fuzz/README.md).

   libhdf5 1.10 trusts sizes inside a file in places (fuzzing found, e.g., H5HG_read copying a
   global-heap object of a corrupt length while reading a variable-length string attribute:
   a crash, not an error). Those are libhdf5's bugs and cannot be fixed here; what can be done
   is to meet them in a process that may die. rh5_preflight forks, the child makes the same
   calls the Swift reader will make (rh5_reader_walk: C only, no Swift runtime, nothing that
   takes a lock another thread could hold) under an address-space limit, and the parent reads
   the file only if the child came back. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hdf5_private.h"

typedef struct {
    uint64_t max_tensor_bytes;
    int read_values;
    int out_of_memory;
} reader_walk;

static herr_t find_allocation_failure(unsigned n, const H5E_error2_t *error, void *data) {
    (void)n;
    if (error->min_num == H5E_CANTALLOC || error->min_num == H5E_NOSPACE) *(int *)data = 1;
    return 0;
}

/* Called after a failed call: notes whether it ran out of memory; always 1 (stop). */
static int failed(reader_walk *walk) {
    int memory = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, find_allocation_failure, &memory);
    if (memory) walk->out_of_memory = 1;
    return 1;
}

/* HDF5Group.strings: NULL when absent; *error set when the attribute exists and cannot be read. */
static char **strings(reader_walk *walk, hid_t obj, const char *name, int64_t *count, int *error) {
    *count = 0;
    int type_class = 0;
    uint64_t elements = 0;
    if (rh5_attr_exists(obj, name) <= 0) return NULL;
    if (rh5_attr_info(obj, name, &type_class, &elements) < 0) {
        *error = failed(walk);
        return NULL;
    }
    if (type_class != RH5_CLASS_STRING) {
        if (elements != 0) *error = 1;
        return NULL;
    }
    char *joined = NULL;
    size_t length = 0;
    int64_t n = rh5_attr_read_strings(obj, name, &joined, &length);
    if (n < 0) {
        *error = failed(walk);
        return NULL;
    }
    char **list = calloc(n > 0 ? (size_t)n : 1, sizeof *list);
    if (!list) {
        rh5_free(joined);
        walk->out_of_memory = 1;
        *error = 1;
        return NULL;
    }
    size_t at = 0;
    for (int64_t i = 0; i < n && joined && at < length; i++) {
        size_t end = at;
        while (end < length && joined[end]) end++;
        list[i] = strndup(joined + at, end - at);
        at = end + 1;
        *count = i + 1;
    }
    rh5_free(joined);
    return list;
}

static void free_strings(char **list, int64_t count) {
    for (int64_t i = 0; list && i < count; i++) free(list[i]);
    free(list);
}

/* HDF5Group.stringList: the attribute, or its chunks name0, name1, ... */
static char **string_list(reader_walk *walk, hid_t obj, const char *name, int64_t *count, int *error) {
    char **whole = strings(walk, obj, name, count, error);
    if (whole || *error) return whole;
    char **all = NULL;
    int64_t total = 0;
    int found = 0;
    for (int chunk = 0; !*error; chunk++) {
        char key[1100];
        snprintf(key, sizeof key, "%s%d", name, chunk);
        int64_t n = 0;
        char **part = strings(walk, obj, key, &n, error);
        if (!part) break;
        found = 1;
        char **grown = realloc(all, (size_t)(total + n + 1) * sizeof *grown);
        if (!grown) {
            free_strings(part, n);
            walk->out_of_memory = 1;
            *error = 1;
            break;
        }
        all = grown;
        if (n > 0) memcpy(all + total, part, (size_t)n * sizeof *part);
        free(part);
        total += n;
        if (total > (int64_t)RH5_MAX_ATTRIBUTE_ELEMENTS) *error = 1;
    }
    *count = total;
    if (!found && !all) return NULL;
    return all ? all : calloc(1, sizeof(char *));
}

static void scalar(reader_walk *walk, hid_t obj, const char *name, int *error) {
    int64_t n = 0;
    free_strings(strings(walk, obj, name, &n, error), n);
}

/* WeightsArchive.weightShape, then (read_values) HDF5Dataset.read. 0: fine. */
static int weight(reader_walk *walk, hid_t group, const char *name) {
    if (rh5_object_kind(group, name) != 2) return 1;
    hid_t dataset = rh5_dataset_open(group, name);
    if (dataset < 0) return failed(walk);
    int result = 1;
    char type[64];
    uint64_t dims[RH5_MAX_RANK];
    int rank;
    if (rh5_dataset_element(dataset, type, sizeof type) != 1) goto done;
    rank = rh5_dataset_shape(dataset, dims, RH5_MAX_RANK);
    if (rank < 0 || rank > 8) goto done;
    /* TensorLimits.shape: each dimension an Int, no partial product overflowing, within budget. */
    uint64_t count = 1, guard = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] > (uint64_t)INT64_MAX) goto done;
        uint64_t d = dims[i] ? dims[i] : 1;
        if (guard > (uint64_t)INT64_MAX / d) goto done;
        guard *= d;
        count = dims[i] ? count * dims[i] : 0;
    }
    if (count > (uint64_t)INT64_MAX / 4 || count * 4 > walk->max_tensor_bytes) goto done;
    if (rh5_dataset_check(dataset, "", walk->max_tensor_bytes) != 0) goto done;
    if (walk->read_values) {
        int stored = rh5_dataset_is_stored(dataset);
        if (stored != 1) goto done;
        float *values = malloc(count ? (size_t)count * sizeof(float) : sizeof(float));
        if (!values) {
            walk->out_of_memory = 1;
            goto done;
        }
        int status = rh5_dataset_read_f32(dataset, values, count);
        free(values);
        if (status < 0) {
            failed(walk);
            goto done;
        }
    }
    result = 0;
done:
    rh5_close(dataset);
    return result;
}

/* KerasH5Index.read. */
static int keras_h5(reader_walk *walk, hid_t group) {
    int error = 0;
    int64_t layers = 0;
    char **names = string_list(walk, group, "layer_names", &layers, &error);
    if (!names || error) {
        free_strings(names, layers);
        return 1;
    }
    int result = 0;
    for (int64_t i = 0; i <= layers && !result; i++) {
        const char *name = i < layers ? names[i] : "top_level_model_weights";
        if (!name) { result = 1; break; }
        int kind = rh5_object_kind(group, name);
        if (kind != 1) {
            if (i < layers) result = 1;
            break;
        }
        hid_t layer = rh5_group_open(group, name);
        if (layer < 0) { result = failed(walk); break; }
        int64_t weights = 0;
        char **weight_names = string_list(walk, layer, "weight_names", &weights, &error);
        if (error) result = 1;
        for (int64_t w = 0; w < weights && !result; w++) {
            result = weight_names[w] ? weight(walk, layer, weight_names[w]) : 1;
        }
        free_strings(weight_names, weights);
        rh5_close(layer);
    }
    free_strings(names, layers);
    if (!result) scalar(walk, group, "keras_version", &error);
    if (!result) scalar(walk, group, "backend", &error);
    return result || error;
}

/* Keras3Index.variables. */
static int variables(reader_walk *walk, hid_t vars) {
    int error = 0;
    scalar(walk, vars, "name", &error);
    if (error) return 1;
    int64_t count = rh5_child_count(vars);
    if (count < 0) return failed(walk);
    for (int64_t i = 0; i < count; i++) {
        int64_t length = rh5_child_name(vars, (uint64_t)i, NULL, 0);
        if (length < 0 || length > (1 << 16)) return 1;
        char *name = calloc((size_t)length + 1, 1);
        if (!name || rh5_child_name(vars, (uint64_t)i, name, (size_t)length + 1) < 0) {
            free(name);
            return 1;
        }
        int result = 0;
        if (name[0] >= '0' && name[0] <= '9' && rh5_object_kind(vars, name) == 2) result = weight(walk, vars, name);
        free(name);
        if (result) return 1;
    }
    return 0;
}

/* Keras3Index.walk. */
static int keras3(reader_walk *walk, hid_t group, int depth, int max_depth) {
    if (rh5_object_kind(group, "layers") != 1) return 0;
    if (depth >= max_depth) return 1;
    hid_t list = rh5_group_open(group, "layers");
    if (list < 0) return failed(walk);
    int64_t count = rh5_child_count(list);
    int result = count < 0;
    for (int64_t i = 0; i < count && !result; i++) {
        int64_t length = rh5_child_name(list, (uint64_t)i, NULL, 0);
        if (length < 0 || length > (1 << 16)) { result = 1; break; }
        char *child = calloc((size_t)length + 1, 1);
        if (!child || rh5_child_name(list, (uint64_t)i, child, (size_t)length + 1) < 0) {
            free(child);
            result = 1;
            break;
        }
        if (rh5_object_kind(list, child) == 1) {
            hid_t layer = rh5_group_open(list, child);
            if (layer < 0) {
                result = failed(walk);
            } else {
                if (rh5_object_kind(layer, "vars") == 1) {
                    hid_t vars = rh5_group_open(layer, "vars");
                    result = vars < 0 ? failed(walk) : variables(walk, vars);
                    if (vars >= 0) rh5_close(vars);
                }
                if (!result) result = keras3(walk, layer, depth + 1, max_depth);
                rh5_close(layer);
            }
        }
        free(child);
    }
    rh5_close(list);
    return result;
}

/* WeightsArchive.readMetadata. */
static int metadata(reader_walk *walk, hid_t root) {
    static const char *texts[] = {"rubble_class_names", "rubble_architecture", "rubble_head", "rubble_preprocessing",
                                  "rubble_resize", "rubble_positive_class", "rubble_alpha"};
    int error = 0;
    for (size_t i = 0; i < sizeof texts / sizeof *texts && !error; i++) scalar(walk, root, texts[i], &error);
    int type_class = 0;
    uint64_t elements = 0;
    if (!error && rh5_attr_exists(root, "rubble_input_size") > 0) {
        if (rh5_attr_info(root, "rubble_input_size", &type_class, &elements) < 0) return failed(walk);
        if (type_class == RH5_CLASS_INTEGER || type_class == RH5_CLASS_FLOAT) {
            size_t cap = elements ? (size_t)elements : 1;
            int64_t *values = calloc(cap, sizeof *values);
            if (!values) {
                walk->out_of_memory = 1;
                return 1;
            }
            int64_t n = rh5_attr_read_i64(root, "rubble_input_size", values, cap);
            free(values);
            if (n < 0) return failed(walk);
        }
    }
    return error;
}

/* Every attribute of one object, read as the shim reads attributes. */
static herr_t read_attribute(hid_t obj, const char *name, const H5A_info_t *info, void *data) {
    (void)info;
    reader_walk *walk = data;
    int type_class = 0;
    uint64_t elements = 0;
    if (rh5_attr_info(obj, name, &type_class, &elements) < 0) return failed(walk), 0;
    if (type_class == RH5_CLASS_STRING) {
        char *joined = NULL;
        size_t length = 0;
        if (rh5_attr_read_strings(obj, name, &joined, &length) < 0) failed(walk);
        rh5_free(joined);
    } else if (type_class == RH5_CLASS_INTEGER || type_class == RH5_CLASS_FLOAT) {
        size_t cap = elements ? (size_t)elements : 1;
        double *values = calloc(cap, sizeof *values);
        if (!values) walk->out_of_memory = 1;
        else if (rh5_attr_read_f64(obj, name, values, cap) < 0) failed(walk);
        free(values);
    }
    return 0;
}

static herr_t read_attributes_of(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    hid_t object = H5Oopen(group, name, rh5_link_access());
    if (object < 0) return 0;
    hsize_t at = 0;
    H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &at, read_attribute, data);
    H5Oclose(object);
    return 0;
}

/* Every attribute of every object (after rh5_file_check passed, so hard links only): the
   reader reads a few by name, and libhdf5's attribute code is where fuzzing found crashes, so
   the preflight child meets them all first. */
static void read_every_attribute(reader_walk *walk, hid_t root) {
    hsize_t at = 0;
    H5Aiterate2(root, H5_INDEX_NAME, H5_ITER_INC, &at, read_attribute, walk);
    H5Lvisit(root, H5_INDEX_NAME, H5_ITER_INC, read_attributes_of, walk);
    H5Eclear2(H5E_DEFAULT);
    rh5_clear_refusal();
}

/* WeightsArchive.index: the layout decides the walk. 0: fine. */
static int layout(reader_walk *walk, hid_t root, int max_depth) {
    int error = 0, found = 0;
    int64_t n = 0;
    char **names = NULL;
    if (rh5_object_kind(root, "model_weights") == 1) {
        hid_t weights = rh5_group_open(root, "model_weights");
        if (weights < 0) return failed(walk);
        names = string_list(walk, weights, "layer_names", &n, &error);
        found = names != NULL;
        free_strings(names, n);
        int result = error;
        if (!error && found) {
            result = keras_h5(walk, weights);
            if (!result) scalar(walk, root, "keras_version", &error);
        }
        rh5_close(weights);
        if (error || found) return result || error;
    }
    n = 0;
    names = string_list(walk, root, "layer_names", &n, &error);
    found = names != NULL;
    free_strings(names, n);
    if (error) return 1;
    if (found) return keras_h5(walk, root);
    int vars = rh5_object_kind(root, "vars") == 1, layers = rh5_object_kind(root, "layers") == 1;
    if (!vars && !layers) return 1; /* no layout this reader knows */
    if (vars && !layers) {
        hid_t group = rh5_group_open(root, "vars");
        if (group < 0) return failed(walk);
        int result = variables(walk, group);
        rh5_close(group);
        if (result) return 1;
    }
    return keras3(walk, root, 0, max_depth);
}

int rh5_reader_walk(const char *path, uint64_t max_links, int max_depth, uint64_t max_tensor_bytes, int read_values,
                    int every_attribute) {
    reader_walk walk = {max_tensor_bytes, read_values, 0};
    if (rh5_begin() < 0 || rh5_is_hdf5(path) <= 0) return RH5_WALK_ERROR;
    int result = 1;
    hid_t file = rh5_file_open(path, 0);
    if (file < 0) {
        failed(&walk);
    } else if (rh5_file_check(file, max_links, max_depth) != 0) {
        failed(&walk);
    } else {
        hid_t root = rh5_group_open(file, "/");
        if (root < 0) {
            failed(&walk);
        } else {
            if (every_attribute) read_every_attribute(&walk, root);
            result = metadata(&walk, root) || layout(&walk, root, max_depth);
            rh5_close(root);
        }
    }
    if (file >= 0) rh5_close(file);
    char message[16];
    rh5_error_message(message, sizeof message);
    rh5_take_refusal(message, sizeof message);
    if (walk.out_of_memory) return RH5_WALK_OUT_OF_MEMORY;
    return result ? RH5_WALK_ERROR : RH5_WALK_OK;
}

/* The child's address-space limit: what it has mapped already (the parent's heap, libraries,
   thread stacks) plus the tensor budget (one tensor is read at a time) and 1 GiB for libhdf5's
   own needs. */
static void limit_memory(uint64_t max_tensor_bytes) {
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (statm) {
        if (fscanf(statm, "%lu", &pages) != 1) pages = 0;
        fclose(statm);
    }
    if (pages == 0) return;
    uint64_t mapped = (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t extra = max_tensor_bytes > (UINT64_MAX - mapped) / 4 ? UINT64_MAX / 4 : max_tensor_bytes;
    uint64_t limit = mapped + extra + ((uint64_t)1 << 30);
    struct rlimit rl = {(rlim_t)limit, (rlim_t)limit};
    setrlimit(RLIMIT_AS, &rl);
}

int rh5_preflight(const char *path, uint64_t max_links, int max_depth, uint64_t max_tensor_bytes, int read_values,
                  int timeout_seconds, int *detail) {
    *detail = 0;
    pid_t child = fork();
    if (child < 0) {
        *detail = errno;
        return RH5_PREFLIGHT_NO_CHILD;
    }
    if (child == 0) {
        /* The default action for every crash signal: die, report nothing (a runtime's crash
           handler would print a report and take seconds). */
        int crashes[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP};
        for (size_t i = 0; i < sizeof crashes / sizeof *crashes; i++) signal(crashes[i], SIG_DFL);
        /* Nothing from the child reaches the caller's terminal (glibc reports heap corruption
           it detects on standard error before it aborts). */
        int quiet = open("/dev/null", O_WRONLY);
        if (quiet >= 0) {
            dup2(quiet, STDOUT_FILENO);
            dup2(quiet, STDERR_FILENO);
            if (quiet > STDERR_FILENO) close(quiet);
        }
        limit_memory(max_tensor_bytes);
        _exit(rh5_reader_walk(path, max_links, max_depth, max_tensor_bytes, read_values, 1));
    }
    struct timespec start, now, pause = {0, 2 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int status = 0;
        pid_t done = waitpid(child, &status, WNOHANG);
        if (done == child) {
            if (WIFSIGNALED(status)) {
                *detail = WTERMSIG(status);
                return RH5_PREFLIGHT_CRASHED;
            }
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : RH5_WALK_ERROR;
            if (code == RH5_WALK_OUT_OF_MEMORY) return RH5_PREFLIGHT_OUT_OF_MEMORY;
            return code == RH5_WALK_OK ? RH5_PREFLIGHT_OK : RH5_PREFLIGHT_ERROR;
        }
        if (done < 0 && errno != EINTR) {
            *detail = errno;
            return RH5_PREFLIGHT_NO_CHILD;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        double elapsed = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
        if (elapsed >= (double)timeout_seconds) {
            kill(child, SIGKILL);
            waitpid(child, &status, 0);
            *detail = timeout_seconds;
            return RH5_PREFLIGHT_TIMED_OUT;
        }
        nanosleep(&pause, NULL);
    }
}
