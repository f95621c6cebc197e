/*
 * libjpeg error handling shared by decoding and encoding (see jpeg_internal.h): errors become
 * a longjmp with a result code, a premature end of data is fatal, other warnings are counted.
 */
#include "jpeg_internal.h"

#include <stdlib.h>
#include <string.h>

void rubble_jpeg_set_message(rubble_jpeg_info *info, int code, const char *text) {
    info->code = code;
    snprintf(info->message, sizeof info->message, "%s", text);
}

static int classify(int msg_code) {
    switch (msg_code) {
    case JERR_OUT_OF_MEMORY:
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW:
        return RUBBLE_JPEG_NO_MEMORY;
    case JERR_INPUT_EMPTY:
    case JERR_INPUT_EOF:
        return RUBBLE_JPEG_TRUNCATED;
    case JERR_CONVERSION_NOTIMPL:
    case JERR_NOT_COMPILED:
    case JERR_NOTIMPL:
    case JERR_BAD_IN_COLORSPACE:
        return RUBBLE_JPEG_UNSUPPORTED;
    case JERR_FILE_READ:
        return RUBBLE_JPEG_UNREADABLE;
    default:
        return RUBBLE_JPEG_CORRUPT;
    }
}

static void on_error_exit(j_common_ptr common) {
    struct error_mgr *err = (struct error_mgr *)common->err;
    (*common->err->format_message)(common, err->message);
    err->code = classify(common->err->msg_code);
    longjmp(err->jump, 1);
}

/* Warnings (level -1): a premature end of data is fatal here; the rest are counted. */
static void on_emit_message(j_common_ptr common, int level) {
    struct error_mgr *err = (struct error_mgr *)common->err;
    if (level >= 0) return; /* trace messages */
    if (common->err->msg_code == JWRN_JPEG_EOF) {
        (*common->err->format_message)(common, err->message);
        err->code = RUBBLE_JPEG_TRUNCATED;
        longjmp(err->jump, 1);
    }
    common->err->num_warnings++;
}

static void on_output_message(j_common_ptr common) { (void)common; }

void rubble_jpeg_init_error(struct job *job) {
    jpeg_std_error(&job->err.pub);
    job->err.pub.error_exit = on_error_exit;
    job->err.pub.emit_message = on_emit_message;
    job->err.pub.output_message = on_output_message;
    job->err.code = RUBBLE_JPEG_OK;
    job->err.message[0] = 0;
}

void rubble_jpeg_clear_info(rubble_jpeg_info *info) {
    memset(info, 0, sizeof *info);
    info->scale_denom = 1;
}

void rubble_jpeg_free(void *pointer) { free(pointer); }

struct job *rubble_jpeg_new_job(rubble_jpeg_info *info) {
    struct job *job = (struct job *)calloc(1, sizeof *job);
    if (!job) {
        rubble_jpeg_set_message(info, RUBBLE_JPEG_NO_MEMORY, "out of memory");
        return NULL;
    }
    rubble_jpeg_init_error(job);
    return job;
}
