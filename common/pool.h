/* Worker threads, started once and reused (zstd's pool.c, dav1d's workers
 * started in dav1d_open): a context owns one pool (lwc_open creates it) and
 * every stage that splits its work into tasks runs them on it.
 *
 * Tasks: lwc_parallel(threads, ntasks, fn, arg) runs fn(arg, t, worker) for
 * t in [0, ntasks) on up to `threads` workers (the caller is worker 0, the
 * pool's threads are 1..). Tasks are pulled from a shared counter; the
 * worker index is stable within a call, so fn may use per-worker scratch.
 * Results must not depend on which worker runs which task (every user in
 * the library splits work so that they do not).
 *
 * Which pool: the one the calling thread has bound (lwc_pool_bind; the
 * public entry points bind their context's pool for the length of the
 * call). Without one, or when the bound pool is busy (a call from inside a
 * task) or too small, lwc_parallel starts and joins its own threads, as it
 * did before pools existed. */
#ifndef LWC_POOL_H
#define LWC_POOL_H

typedef int (*LwcTaskFn)(void *arg, int task, int worker);
typedef struct LwcPool LwcPool;

/* A pool for `threads` workers in all (threads - 1 threads are started;
 * threads <= 1 gives a pool that runs everything on the caller). A thread
 * that fails to start leaves the pool smaller, never fails it. */
int lwc_pool_create(int threads, LwcPool **out);
void lwc_pool_destroy(LwcPool **p);
/* Workers in all, the caller included. */
int lwc_pool_threads(const LwcPool *p);
/* Make p the calling thread's pool (NULL: none); returns the previous one. */
LwcPool *lwc_pool_bind(LwcPool *p);

/* The first negative result of fn (LWC_OK when none); every task runs. */
int lwc_parallel(int threads, int ntasks, LwcTaskFn fn, void *arg);

#endif
