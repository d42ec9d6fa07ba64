/*  bench_mesh - the measured path: an embedded hearth broker, native echo
    workers, and a hearth client driving them. Each runs in its own process
    (bench_proc), as they would when deployed.
*/
#ifndef BENCH_MESH_H_INCLUDED
#define BENCH_MESH_H_INCLUDED

#include "bench.h"

/*  bench_child_fn, arg a bench_config_t: runs a broker bound on
    tcp://127.0.0.1:*, whose endpoint is the ready line, until SIGTERM.      */
int bench_mesh_broker (void *arg, int ready_fd);

/*  What a worker child serves.                                              */
typedef struct {
    const char *endpoint;       /* the broker                                */
    const char *service;
    int credit;
    bool inline_handler;        /* hearth_worker_set_inline                  */
} bench_worker_args_t;

/*  bench_child_fn, arg a bench_worker_args_t: runs an echo worker; its
    ready line comes once the broker has accepted its registration.          */
int bench_mesh_worker (void *arg, int ready_fd);

/*  (a): count sequential hearth_client_call round trips to service.
    Returns 0 with figure set, or -1 (and says why on stderr).               */
int bench_mesh_sync (const bench_config_t *config, const char *endpoint,
                     const char *service, int count, bench_figure_t *figure);

/*  (b): count requests through hearth_client_send/recv with up to window
    in flight. Returns 0 with figure set, or -1.                             */
int bench_mesh_pipelined (const bench_config_t *config, const char *endpoint,
                          const char *service, int count, int window,
                          bench_figure_t *figure);

#endif
