/* Learning-rate schedules (see schedule.h). */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "tools/train/schedule.h"

static const double k_pi = 3.14159265358979323846;

float lwc_schedule_lr(const LwcSchedule *s, long step)
{
    long t = step - s->start;
    if (t < 0) t = 0;
    if (t < s->warmup) return s->floor + (s->peak - s->floor) * (float)(t + 1) / (float)(s->warmup + 1);
    long span = s->budget - s->warmup;
    if (span <= 0 || t >= s->budget) return s->floor;
    double u = (double)(t - s->warmup) / (double)span; /* 0 .. 1 */
    return (float)(s->floor + 0.5 * (s->peak - s->floor) * (1.0 + cos(k_pi * u)));
}

long lwc_schedule_end(const LwcSchedule *s)
{
    return s->kind == LWC_SCHED_COSINE ? s->start + s->budget : LONG_MAX;
}

int lwc_schedule_parse_kind(const char *name, int *kind)
{
    if (!strcmp(name, "cosine")) *kind = LWC_SCHED_COSINE;
    else if (!strcmp(name, "plateau")) *kind = LWC_SCHED_PLATEAU;
    else return -1;
    return 0;
}
