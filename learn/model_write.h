/* The model file writer (format in codec/model.h). */
#ifndef LWC_MODEL_WRITE_H
#define LWC_MODEL_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/model.h"

/* Serialised-tensor writer used by model export (tools) and tests. */
typedef struct LwcModelWriter {
    uint8_t *buf;
    size_t len, cap;
    uint32_t count;
    uint32_t version; /* written by lwc_mw_finish; lwc_mw_init sets LWC_MODEL_VERSION */
    int err;
} LwcModelWriter;

void lwc_mw_init(LwcModelWriter *w);
void lwc_mw_tensor(LwcModelWriter *w, const char *name, int dtype, int ndim,
                   const uint32_t *dims, const void *data);
/* Finish: on success *out (lwc_malloc'd) holds the file. */
int lwc_mw_finish(LwcModelWriter *w, uint8_t **out, size_t *size);
void lwc_mw_free(LwcModelWriter *w);

#endif
