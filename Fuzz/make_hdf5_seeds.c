/* Writes the HDF5 seed corpus of the fuzz harnesses (Fuzz/corpus/hdf5 and Fuzz/corpus/keras):
   small files in each Keras layout the reader knows, and hostile ones (links, virtual and
   external storage, other element types, impossible shapes, NaN). Built and run by hand:
     clang -ISources/CHDF5/include Fuzz/make_hdf5_seeds.c Sources/CHDF5/[a-z]*.c -lhdf5_serial -o /tmp/seeds
     /tmp/seeds Fuzz/corpus/keras   (then copy into Fuzz/corpus/hdf5)
   The files are committed; this program is only needed to change them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../Sources/CHDF5/hdf5_private.h"

static char directory[512];

static rh5_id create(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", directory, name);
    rh5_id file = rh5_file_create(path);
    if (file < 0) {
        fprintf(stderr, "cannot create %s\n", path);
        exit(1);
    }
    return file;
}

static void strings(rh5_id obj, const char *name, const char *const *values, size_t count) {
    if (rh5_attr_write_strings(obj, name, values, count, 0, 0) < 0) exit(2);
}

static void text(rh5_id obj, const char *name, const char *value) {
    if (rh5_attr_write_strings(obj, name, &value, 1, 1, 1) < 0) exit(2);
}

/* A fixed-length string array attribute, as the published Keras 1 files have. */
static void fixed_strings(hid_t obj, const char *name, const char *const *values, size_t count) {
    size_t width = 1;
    for (size_t i = 0; i < count; i++) if (strlen(values[i]) > width) width = strlen(values[i]);
    char *buffer = calloc(count, width);
    for (size_t i = 0; i < count; i++) memcpy(buffer + i * width, values[i], strlen(values[i]));
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, width);
    H5Tset_strpad(type, H5T_STR_NULLPAD);
    hsize_t dims[1] = {count};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attr, type, buffer);
    H5Aclose(attr);
    H5Sclose(space);
    H5Tclose(type);
    free(buffer);
}

static void dataset(rh5_id loc, const char *path, int rank, const uint64_t *dims, float first) {
    uint64_t count = 1;
    for (int i = 0; i < rank; i++) count *= dims[i];
    float *values = malloc((count ? count : 1) * sizeof *values);
    for (uint64_t i = 0; i < count; i++) values[i] = first + 0.125f * (float)i;
    if (rh5_dataset_write_f32(loc, path, rank, dims, values) < 0) exit(3);
    free(values);
}

/* A chunked, deflated and shuffled float32 dataset (built-in filters: accepted). */
static void deflated(hid_t loc, const char *path) {
    hsize_t dims[2] = {4, 3}, chunk[2] = {2, 3};
    float values[12];
    for (int i = 0; i < 12; i++) values[i] = (float)i - 5.5f;
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 6);
    H5Pset_fletcher32(dcpl);
    hid_t space = H5Screate_simple(2, dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t ds = H5Dcreate2(loc, path, H5T_IEEE_F32LE, space, lcpl, dcpl, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    H5Dclose(ds);
    H5Pclose(lcpl);
    H5Sclose(space);
    H5Pclose(dcpl);
}

/* Keras 2 save_weights: one Dense layer, Rubble's metadata. */
static rh5_id keras2(const char *name) {
    rh5_id file = create(name);
    rh5_id root = rh5_group_open(file, "/");
    const char *layers[] = {"dense"};
    strings(root, "layer_names", layers, 1);
    text(root, "keras_version", "2.21.0");
    text(root, "backend", "tensorflow");
    const char *classes[] = {"damage", "no_damage"};
    if (rh5_attr_write_strings(root, "rubble_class_names", classes, 2, 0, 1) < 0) exit(2);
    int64_t size[3] = {16, 16, 3};
    rh5_attr_write_i64(root, "rubble_input_size", size, 3);
    text(root, "rubble_architecture", "baseline");
    rh5_id group = rh5_group_create(root, "dense");
    const char *weights[] = {"dense/kernel:0", "dense/bias:0"};
    strings(group, "weight_names", weights, 2);
    uint64_t kernel[2] = {2, 3}, bias[1] = {3};
    dataset(group, "dense/kernel:0", 2, kernel, 0.5f);
    dataset(group, "dense/bias:0", 1, bias, -1.0f);
    rh5_close(group);
    rh5_close(root);
    return file;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
        return 64;
    }
    snprintf(directory, sizeof directory, "%s", argv[1]);
    rh5_begin();

    rh5_close(keras2("keras2_dense.h5"));

    /* model.save: the tree under model_weights, a nested model, an empty weight_names, a
       chunked deflated dataset, an int64 optimizer dataset outside the weights. */
    {
        rh5_id file = create("keras2_model_weights.h5");
        rh5_id root = rh5_group_open(file, "/");
        text(root, "keras_version", "2.21.0");
        rh5_id weights = rh5_group_create(root, "model_weights");
        const char *layers[] = {"vgg", "flatten", "dense"};
        strings(weights, "layer_names", layers, 3);
        rh5_id vgg = rh5_group_create(weights, "vgg");
        const char *vgg_weights[] = {"block1_conv1/kernel:0", "block1_conv1/bias:0"};
        strings(vgg, "weight_names", vgg_weights, 2);
        uint64_t kernel[4] = {3, 3, 3, 2}, bias[1] = {2};
        dataset(vgg, "block1_conv1/kernel:0", 4, kernel, 0.0f);
        dataset(vgg, "block1_conv1/bias:0", 1, bias, 0.0f);
        rh5_id flatten = rh5_group_create(weights, "flatten");
        rh5_attr_write_empty(flatten, "weight_names");
        rh5_id dense = rh5_group_create(weights, "dense");
        const char *dense_weights[] = {"dense/kernel:0"};
        strings(dense, "weight_names", dense_weights, 1);
        deflated(dense, "dense/kernel:0");
        uint64_t one[1] = {1};
        dataset(root, "optimizer_weights/iterations:0", 1, one, 3.0f);
        rh5_close(dense);
        rh5_close(flatten);
        rh5_close(vgg);
        rh5_close(weights);
        rh5_close(root);
        rh5_close(file);
    }

    /* Keras 1 names with fixed-length string attributes, as the published ImageNet files. */
    {
        rh5_id file = create("keras1_names.h5");
        rh5_id root = rh5_group_open(file, "/");
        const char *layers[] = {"block1_conv1", "block1_pool"};
        fixed_strings(root, "layer_names", layers, 2);
        rh5_id conv = rh5_group_create(root, "block1_conv1");
        const char *names[] = {"block1_conv1_W_1:0", "block1_conv1_b_1:0"};
        fixed_strings(conv, "weight_names", names, 2);
        uint64_t kernel[4] = {3, 3, 3, 4}, bias[1] = {4};
        dataset(conv, "block1_conv1_W_1:0", 4, kernel, 0.0f);
        dataset(conv, "block1_conv1_b_1:0", 1, bias, 0.0f);
        rh5_id pool = rh5_group_create(root, "block1_pool");
        fixed_strings(pool, "weight_names", names, 0);
        rh5_close(pool);
        rh5_close(conv);
        rh5_close(root);
        rh5_close(file);
    }

    /* Keras 3 .weights.h5 with a nested functional model. */
    {
        rh5_id file = create("keras3.weights.h5");
        rh5_id root = rh5_group_open(file, "/");
        rh5_id vars = rh5_group_create(root, "vars");
        text(vars, "name", "sequential");
        rh5_id inner = rh5_group_create(root, "layers/functional/vars");
        text(inner, "name", "vgg");
        rh5_id conv = rh5_group_create(root, "layers/functional/layers/conv2d/vars");
        text(conv, "name", "block1_conv1");
        uint64_t kernel[4] = {3, 3, 3, 2}, bias[1] = {2};
        dataset(conv, "0", 4, kernel, 0.25f);
        dataset(conv, "1", 1, bias, 0.0f);
        rh5_id dense = rh5_group_create(root, "layers/dense/vars");
        text(dense, "name", "dense");
        uint64_t dk[2] = {2, 2};
        dataset(dense, "0", 2, dk, 1.0f);
        rh5_close(dense);
        rh5_close(conv);
        rh5_close(inner);
        rh5_close(vars);
        rh5_close(root);
        rh5_close(file);
    }

    /* Hostile files, each a valid Keras 2 file plus one refused object. */
    {
        rh5_id file = keras2("hostile_soft_link.h5");
        rh5_test_link_soft(file, "dense/alias", "/dense/dense/kernel:0");
        rh5_close(file);
        file = keras2("hostile_external_link.h5");
        rh5_test_link_external(file, "elsewhere", "/etc/hostname", "/");
        rh5_close(file);
        file = keras2("hostile_virtual.h5");
        rh5_test_create_virtual(file, "virtual", 6, "source.h5", "/data");
        rh5_close(file);
        file = keras2("hostile_external_storage.h5");
        rh5_test_create_external_storage(file, "raw", 6, "raw.bin");
        rh5_close(file);
        file = keras2("hostile_datatype.h5");
        rh5_test_commit_datatype(file, "float_type");
        rh5_close(file);
        file = keras2("hostile_cycle.h5");
        rh5_test_link_hard(file, "dense/loop", "/dense");
        rh5_close(file);
        file = keras2("hostile_filter.h5");
        float values[6] = {1, 2, 3, 4, 5, 6};
        rh5_test_write_with_unknown_filter(file, "filtered", values, 6);
        rh5_close(file);
        file = keras2("hostile_float64.h5");
        rh5_test_write_converted(file, "dense/dense/extra:0", values, 6, 1);
        rh5_close(file);
        file = keras2("hostile_int32.h5");
        rh5_test_write_converted(file, "dense/dense/extra:0", values, 6, 2);
        rh5_close(file);
        file = keras2("hostile_huge.h5");
        uint64_t huge[2] = {(uint64_t)1 << 40, (uint64_t)1 << 40}, chunk[2] = {1, 1};
        rh5_test_create_unwritten(file, "dense/dense/huge:0", 2, huge, chunk, 0);
        rh5_close(file);
    }
    /* A NaN kernel. */
    {
        rh5_id file = create("hostile_nan.h5");
        rh5_id root = rh5_group_open(file, "/");
        const char *layers[] = {"dense"};
        strings(root, "layer_names", layers, 1);
        rh5_id group = rh5_group_create(root, "dense");
        const char *weights[] = {"dense/kernel:0"};
        strings(group, "weight_names", weights, 1);
        float values[6] = {0, 1, 2, 0, 4, 5};
        values[3] = values[0] / values[0];
        uint64_t dims[2] = {2, 3};
        rh5_dataset_write_f32(group, "dense/kernel:0", 2, dims, values);
        rh5_close(group);
        rh5_close(root);
        rh5_close(file);
    }
    return 0;
}
