/* Learning-rate schedules. "plateau" is the old rule (the rate halves after
 * three validations without gain; the rate lives in the training state).
 * "cosine" is planned over a declared step budget: a linear warm-up from
 * floor to peak, then a cosine from peak down to floor, and training ends
 * when the budget is spent. A planned schedule does not react to the noise
 * of the validation score, and a run cut into sessions follows exactly the
 * same rates as one uninterrupted run (the schedule is in the checkpoint). */
#ifndef LWC_TRAIN_SCHEDULE_H
#define LWC_TRAIN_SCHEDULE_H

enum { LWC_SCHED_PLATEAU = 0, LWC_SCHED_COSINE = 1 };

typedef struct LwcSchedule {
    int kind;
    long start;         /* the step at which the schedule began */
    long warmup, budget; /* steps; warmup < budget */
    float peak, floor;
} LwcSchedule;

/* The rate of the step that follows `step` steps (cosine only). */
float lwc_schedule_lr(const LwcSchedule *s, long step);
/* The step at which the schedule ends (LONG_MAX for plateau). */
long lwc_schedule_end(const LwcSchedule *s);
/* Parse "cosine" or "plateau" into s->kind; -1 if neither. */
int lwc_schedule_parse_kind(const char *name, int *kind);

#endif
