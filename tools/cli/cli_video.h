/* CLI helpers for streamed input and output (Y4M and .lwcv video): an input
 * whose first bytes are peeked to pick the format, and an output written
 * through a temporary file renamed into place on success. */
#ifndef LWC_CLI_VIDEO_H
#define LWC_CLI_VIDEO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lwc.h"

typedef struct LwcCliInput {
    FILE *f;            /* positioned after the peeked bytes */
    uint8_t head[16];   /* the peeked bytes */
    size_t n;           /* how many were read (fewer at end of input) */
} LwcCliInput;

/* Open path ("-" = stdin) and read up to `peek` (<= 16) bytes. LWC_ERR_IO
 * when it cannot be opened. */
int lwc_cli_input_open(const char *path, size_t peek, LwcCliInput *in);
/* Read all of the input (peeked bytes included) into a new buffer (free with
 * lwc_free_buffer), refusing more than cap bytes (LWC_ERR_TOO_BIG). */
int lwc_cli_input_read_rest(LwcCliInput *in, size_t cap, uint8_t **buf, size_t *size);
/* Read exactly n bytes: LWC_OK, LWC_ERR_TRUNCATED (*got says how many came). */
int lwc_cli_read_exact(FILE *f, uint8_t *buf, size_t n, size_t *got);
/* Close (not stdin) and zero. NULL-safe. */
void lwc_cli_input_close(LwcCliInput *in);

typedef struct LwcCliOutput {
    FILE *f;
    char *tmp;          /* temporary path, NULL for stdout */
    const char *path;
} LwcCliOutput;

/* Open path for writing ("-" = stdout, refused when a terminal unless
 * allow_tty: LWC_ERR_INVAL) through a temporary file in the same folder. */
int lwc_cli_output_open(const char *path, int allow_tty, LwcCliOutput *o);
/* 1 when the output can be rewound (a file, not a pipe). */
int lwc_cli_output_seekable(const LwcCliOutput *o);
/* Flush and close, then rename the temporary file over path. On failure the
 * temporary file is removed. */
int lwc_cli_output_commit(LwcCliOutput *o);
/* Discard: close and remove the temporary file. NULL-safe, idempotent. */
void lwc_cli_output_abort(LwcCliOutput *o);

#endif
