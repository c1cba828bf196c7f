/* Shared by the fuzz harnesses in tests/fuzz.
 *
 * Each harness is one file defining LLVMFuzzerTestOneInput. Built with
 * LWC_FUZZ=ON (clang) it links libFuzzer and fuzzes; otherwise it links
 * replay.c, whose main() runs every file (or every file of every folder)
 * named on the command line once: ctest replays the seed corpora
 * tests/fuzz/corpus/<harness>/ that way, and a crash file found by the fuzzer
 * can be rerun under gdb without libFuzzer.
 *
 * A harness calls abort() (FUZZ_CHECK) when a property fails, so a wrong
 * result counts as a crash in both modes. Inputs above the harness's size cap
 * are ignored (libFuzzer also gets -max_len from tests/cli_fuzz.sh). */
#ifndef LWC_FUZZ_H
#define LWC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read a whole file into a malloc'd buffer (NULL on failure). */
uint8_t *fuzz_read_file(const char *path, size_t *len);

/* The test model, loaded once: $LWC_FUZZ_MODEL, else tests/golden/tiny.lwcm
 * of the source tree. Exits the process if it cannot be loaded. */
const LwcModel *fuzz_model(void);

/* FNV-1a of an image's samples (rows only, not the stride padding). */
uint64_t fuzz_image_hash(const LwcImage *img);

/* 1 if both images have the same shape and samples. */
int fuzz_images_equal(const LwcImage *a, const LwcImage *b);

/* CRC-32C as the lwc formats use it (a plain copy, not liblwc's). */
uint32_t fuzz_crc32c(const uint8_t *p, size_t n);

/* Rewrite an lwc image stream in place so that its header CRC, model id and
 * section CRCs are right, as far as its layout allows: lets mutations reach
 * the entropy decoder instead of stopping at a checksum. */
void fuzz_fix_stream(uint8_t *b, size_t size, uint64_t model_id);

#define FUZZ_CHECK(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        abort(); \
    } \
} while (0)

#endif
