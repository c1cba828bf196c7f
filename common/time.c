/* A monotonic clock for the stage timings of LwcStats and the tools. */
#include <time.h>

#include "common.h"

double lwc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
