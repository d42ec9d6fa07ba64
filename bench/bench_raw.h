/*  bench_raw - the baselines: a plain libzmq ROUTER echo server and a
    DEALER that keeps a window of messages in flight to it. No broker, no
    protocol: what the transport alone does on this machine.
*/
#ifndef BENCH_RAW_H_INCLUDED
#define BENCH_RAW_H_INCLUDED

#include "bench.h"

/*  bench_child_fn (arg unused): binds a ROUTER on tcp://127.0.0.1:*,
    writes the endpoint as its ready line and echoes every message back
    until SIGTERM. Returns 0, or 1 if the socket could not be set up.        */
int bench_raw_serve (void *arg, int ready_fd);

/*  Sends count messages of config->size bytes to the echo server at
    endpoint, keeping up to window in flight (window 1: synchronous round
    trips), and checks every echo. Gives up after BENCH_PHASE_LIMIT_MS.
    Returns 0 with figure set, or -1 (and says why on stderr).               */
int bench_raw_run (const bench_config_t *config, const char *endpoint,
                   int count, int window, bench_figure_t *figure);

#endif
