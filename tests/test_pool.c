/* The worker pool (common/pool.h): every task runs exactly once on a worker
 * index below the thread count, the first error comes back, a pool is
 * reused across many jobs of every size, a call from inside a task (the
 * pool is busy) still completes, and pools of two threads do not interfere. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "common/common.h"
#include "common/pool.h"
#include "testutil.h"

enum { MAX_TASKS = 500 };

typedef struct Tally {
    atomic_int runs[MAX_TASKS];
    atomic_int bad_worker;
    int threads, fail_at; /* fail_at >= 0: that task returns an error */
} Tally;

static int count_task(void *arg, int t, int worker)
{
    Tally *y = arg;
    atomic_fetch_add(&y->runs[t], 1);
    if (worker < 0 || worker >= y->threads) atomic_store(&y->bad_worker, 1);
    return t == y->fail_at ? LWC_ERR_CORRUPT - (t % 3) : LWC_OK;
}

static void check_once(Tally *y, int ntasks)
{
    for (int t = 0; t < ntasks; t++) ck_assert_msg(atomic_load(&y->runs[t]) == 1, "task %d ran %d times", t,
                                                   atomic_load(&y->runs[t]));
    for (int t = ntasks; t < MAX_TASKS; t++) ck_assert_int_eq(atomic_load(&y->runs[t]), 0);
    ck_assert_int_eq(atomic_load(&y->bad_worker), 0);
}

static void run_jobs(int threads)
{
    for (int ntasks = 0; ntasks <= 70; ntasks += 1 + ntasks / 8) {
        Tally y;
        memset(&y, 0, sizeof(y));
        y.threads = threads;
        y.fail_at = -1;
        ck_assert_int_eq(lwc_parallel(threads, ntasks, count_task, &y), LWC_OK);
        check_once(&y, ntasks);
    }
}

START_TEST(test_tasks_once_per_job)
{
    int threads = 1 + _i;
    LwcPool *p;
    ck_assert_int_eq(lwc_pool_create(threads, &p), LWC_OK);
    ck_assert_int_ge(lwc_pool_threads(p), 1);
    ck_assert_int_le(lwc_pool_threads(p), threads);
    ck_assert_ptr_null(lwc_pool_bind(p));
    for (int rep = 0; rep < 20; rep++) run_jobs(threads); /* the same threads, job after job */
    ck_assert_ptr_eq(lwc_pool_bind(NULL), p);
    run_jobs(threads); /* no pool bound: threads for the call only */
    lwc_pool_destroy(&p);
    ck_assert_ptr_null(p);
    lwc_pool_destroy(&p); /* NULL is a no-op */
}
END_TEST

START_TEST(test_first_error_returned)
{
    LwcPool *p;
    ck_assert_int_eq(lwc_pool_create(4, &p), LWC_OK);
    lwc_pool_bind(p);
    for (int fail = 0; fail < 40; fail += 7) {
        Tally y;
        memset(&y, 0, sizeof(y));
        y.threads = 4;
        y.fail_at = fail;
        int r = lwc_parallel(4, 40, count_task, &y);
        ck_assert_int_eq(r, LWC_ERR_CORRUPT - (fail % 3));
        check_once(&y, 40); /* an error does not stop the other tasks */
    }
    lwc_pool_bind(NULL);
    lwc_pool_destroy(&p);
}
END_TEST

/* A task that itself splits work: the bound pool is busy, so the inner call
 * must run on threads of its own and still finish every task. */
typedef struct Nest {
    Tally inner[8];
} Nest;

static int nest_task(void *arg, int t, int worker)
{
    Nest *n = arg;
    (void)worker;
    return lwc_parallel(3, 50, count_task, &n->inner[t]);
}

START_TEST(test_nested_call)
{
    LwcPool *p;
    Nest n;
    memset(&n, 0, sizeof(n));
    for (int i = 0; i < 8; i++) n.inner[i].threads = 3, n.inner[i].fail_at = -1;
    ck_assert_int_eq(lwc_pool_create(3, &p), LWC_OK);
    lwc_pool_bind(p);
    ck_assert_int_eq(lwc_parallel(3, 8, nest_task, &n), LWC_OK);
    for (int i = 0; i < 8; i++) check_once(&n.inner[i], 50);
    lwc_pool_bind(NULL);
    lwc_pool_destroy(&p);
}
END_TEST

/* Two threads, each with its own pool bound, running jobs at once. */
static void *own_pool_main(void *v)
{
    int *ok = v;
    LwcPool *p;
    if (lwc_pool_create(3, &p) < 0) return NULL;
    lwc_pool_bind(p);
    int good = 1;
    for (int rep = 0; rep < 200 && good; rep++) {
        Tally y;
        memset(&y, 0, sizeof(y));
        y.threads = 3;
        y.fail_at = -1;
        good = lwc_parallel(3, 1 + rep % 37, count_task, &y) == LWC_OK && !atomic_load(&y.bad_worker);
        for (int t = 0; t < 1 + rep % 37 && good; t++) good = atomic_load(&y.runs[t]) == 1;
    }
    lwc_pool_bind(NULL);
    lwc_pool_destroy(&p);
    *ok = good;
    return NULL;
}

START_TEST(test_two_pools_two_threads)
{
    pthread_t th[2];
    int ok[2] = { 0, 0 };
    for (int i = 0; i < 2; i++) ck_assert_int_eq(pthread_create(&th[i], NULL, own_pool_main, &ok[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    ck_assert(ok[0] && ok[1]);
}
END_TEST

static Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_tasks_once_per_job, 0, 5);
    tcase_add_test(tc, test_first_error_returned);
    tcase_add_test(tc, test_nested_call);
    tcase_add_test(tc, test_two_pools_two_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(pool_suite()); }
