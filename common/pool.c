/* Worker pool (pool.h). The caller publishes a job under the mutex and
 * bumps a generation counter; each pool thread wakes, and the ones the job
 * asks for (index < its worker count) pull tasks until none is left, then
 * report. The caller pulls tasks too, then waits for every asked thread to
 * report, so the job's arguments may live on its stack. */
#include <pthread.h>
#include <stdatomic.h>

#include "common.h"
#include "cpu.h"
#include "pool.h"

#define LWC_POOL_MAX 64

typedef struct Job {
    LwcTaskFn fn;
    void *arg;
    int ntasks, workers;
    int reference; /* the caller's kernel mode (cpu.h), for every worker */
    atomic_int next, err;
} Job;

typedef struct Thread {
    LwcPool *p;
    int id;
    pthread_t th;
} Thread;

struct LwcPool {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    Thread th[LWC_POOL_MAX];
    int started;     /* pool threads running: ids 1..started */
    unsigned gen;    /* bumped per job */
    int pending;     /* asked threads that have not reported yet */
    int quit, busy;  /* busy: a job runs (only the binding thread reads it) */
    Job *job;
};

static _Thread_local LwcPool *tl_pool;

static void drain(Job *j, int id)
{
    int prev = lwc_cpu_bind_reference(j->reference);
    for (;;) {
        int t = atomic_fetch_add(&j->next, 1);
        if (t >= j->ntasks) break;
        int r = j->fn(j->arg, t, id), none = LWC_OK;
        if (r < 0) atomic_compare_exchange_strong(&j->err, &none, r);
    }
    lwc_cpu_bind_reference(prev);
}

static void *thread_main(void *v)
{
    Thread *t = v;
    LwcPool *p = t->p;
    unsigned seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->quit) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) break;
        seen = p->gen;
        Job *j = p->job; /* NULL: a job this thread was not asked for has ended */
        if (!j || t->id >= j->workers) continue;
        pthread_mutex_unlock(&p->mu);
        drain(j, t->id);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int lwc_pool_create(int threads, LwcPool **out)
{
    *out = NULL;
    LwcPool *p = lwc_calloc(1, sizeof(*p));
    LWC_RET_IF(!p, LWC_ERR_NOMEM);
    if (pthread_mutex_init(&p->mu, NULL)) { lwc_free(p); return LWC_ERR_NOMEM; }
    if (pthread_cond_init(&p->go, NULL)) goto fail_go;
    if (pthread_cond_init(&p->done, NULL)) goto fail_done;
    int want = LWC_MIN(LWC_MAX(threads, 1), LWC_POOL_MAX) - 1;
    for (int i = 1; i <= want; i++) {
        p->th[i] = (Thread){ p, i, 0 };
        if (pthread_create(&p->th[i].th, NULL, thread_main, &p->th[i])) break;
        p->started = i;
    }
    *out = p;
    return LWC_OK;
fail_done:
    pthread_cond_destroy(&p->go);
fail_go:
    pthread_mutex_destroy(&p->mu);
    lwc_free(p);
    return LWC_ERR_NOMEM;
}

void lwc_pool_destroy(LwcPool **pp)
{
    LwcPool *p = pp ? *pp : NULL;
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i <= p->started; i++) pthread_join(p->th[i].th, NULL);
    if (tl_pool == p) tl_pool = NULL;
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->go);
    pthread_mutex_destroy(&p->mu);
    lwc_free(p);
    *pp = NULL;
}

int lwc_pool_threads(const LwcPool *p) { return p ? p->started + 1 : 1; }

LwcPool *lwc_pool_bind(LwcPool *p)
{
    LwcPool *prev = tl_pool;
    tl_pool = p;
    return prev;
}

/* Job j on p's first j->workers workers (the caller is worker 0). */
static int pool_run(LwcPool *p, Job *j)
{
    p->busy = 1;
    pthread_mutex_lock(&p->mu);
    p->job = j;
    p->pending = j->workers - 1;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    drain(j, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    p->job = NULL;
    pthread_mutex_unlock(&p->mu);
    p->busy = 0;
    return atomic_load(&j->err);
}

typedef struct Spawned {
    Job *j;
    int id;
    pthread_t th;
} Spawned;

static void *spawned_main(void *v)
{
    Spawned *t = v;
    drain(t->j, t->id);
    return NULL;
}

/* No usable pool: threads for this call only. One that fails to start
 * leaves its tasks to the others. */
static int spawn_run(Job *j)
{
    Spawned th[LWC_POOL_MAX];
    int started = 1;
    for (; started < j->workers; started++) {
        th[started] = (Spawned){ j, started, 0 };
        if (pthread_create(&th[started].th, NULL, spawned_main, &th[started])) break;
    }
    drain(j, 0);
    for (int i = 1; i < started; i++) pthread_join(th[i].th, NULL);
    return atomic_load(&j->err);
}

int lwc_parallel(int threads, int ntasks, LwcTaskFn fn, void *arg)
{
    Job j = { fn, arg, ntasks, LWC_MIN(LWC_MIN(threads, ntasks), LWC_POOL_MAX), lwc_cpu_reference(), 0, LWC_OK };
    if (j.workers <= 1) {
        drain(&j, 0);
        return atomic_load(&j.err);
    }
    LwcPool *p = tl_pool;
    if (p && !p->busy && lwc_pool_threads(p) >= j.workers) return pool_run(p, &j);
    return spawn_run(&j);
}
