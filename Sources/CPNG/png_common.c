/*
 * libpng callbacks and error bookkeeping shared by decoding and encoding (see png_internal.h).
 */
#include "png_internal.h"

#include <stdarg.h>
#include <string.h>

void rubble_png_set_message(rubble_png_info *info, int code, const char *text) {
    info->code = code;
    snprintf(info->message, sizeof info->message, "%s", text);
}

void rubble_png_on_error(png_structp png, png_const_charp message) {
    struct job *job = (struct job *)png_get_error_ptr(png);
    if (job->code == RUBBLE_PNG_OK) {
        job->code = RUBBLE_PNG_CORRUPT;
        snprintf(job->message, sizeof job->message, "%s", message);
    }
    longjmp(job->jump, 1);
}

void rubble_png_on_warning(png_structp png, png_const_charp message) {
    (void)message;
    struct job *job = (struct job *)png_get_error_ptr(png);
    job->warnings++;
}

/* Fails with a precise code: running out of data is TRUNCATED, an I/O error UNREADABLE. */
void rubble_png_fail(struct job *job, int code, const char *message) {
    job->code = code;
    snprintf(job->message, sizeof job->message, "%s", message);
    png_error(job->png, message);
}

int rubble_png_set_error(struct job *job, int code, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(job->message, sizeof job->message, format, arguments);
    va_end(arguments);
    job->code = code;
    return code;
}
