/* Shared pieces of the lwc command-line tool. */
#ifndef LWC_CLI_H
#define LWC_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "lwc.h"

int lwc_cmd_encode(int argc, char **argv);
int lwc_cmd_decode(int argc, char **argv);
int lwc_cmd_info(int argc, char **argv);
int lwc_cmd_compare(int argc, char **argv);
int lwc_cmd_bdrate(int argc, char **argv);
int lwc_cmd_train(int argc, char **argv);
int lwc_cmd_bench(int argc, char **argv);

/* Print "lwc <cmd>: <message>" on stderr. Returns 1 (the error exit code). */
int lwc_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Read a whole file ("-" = stdin) into a new buffer, refusing more than cap bytes. */
int lwc_cli_read_all(const char *path, size_t cap, uint8_t **buf, size_t *size);
/* Write bytes to path ("-" = stdout, refused when stdout is a terminal unless
 * allow_tty) through a temporary file renamed into place. */
int lwc_cli_write_atomic(const char *path, const uint8_t *buf, size_t size, int allow_tty);
/* 1 when both paths name the same existing file. */
int lwc_cli_same_file(const char *a, const char *b);
/* The folder of the running executable (/proc/self/exe), without a
 * trailing '/': 0, or -1 when it cannot be read. */
int lwc_cli_exe_dir(char *dir, size_t size);
/* Load the model: explicit path, else $LWC_MODEL, else the shipped model
 * next to the executable (../models) or in the install data dir. On failure
 * prints the error and returns NULL. */
LwcModel *lwc_cli_load_model(const char *cmd, const char *path);
/* Parse a number with range check; returns 0 on success. */
int lwc_cli_parse_double(const char *s, double lo, double hi, double *out);
int lwc_cli_parse_int(const char *s, int lo, int hi, int *out);
/* The CLI's default worker threads: the CPU cores online, 1..64 (the
 * library's own default stays 1: LwcSettings). */
int lwc_cli_default_threads(void);

#endif
