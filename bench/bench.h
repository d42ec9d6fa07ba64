/*  bench - what every part of hearth-bench shares: the run's settings and
    the figure each phase measures.
*/
#ifndef BENCH_H_INCLUDED
#define BENCH_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Every phase gives up after this long, so a lost message cannot hang the
    run (or the ctest that runs it).                                          */
#define BENCH_PHASE_LIMIT_MS 60000
/*  How long a child process may take to say it is ready.                   */
#define BENCH_READY_LIMIT_MS 10000
/*  The service the benchmark workers register.                             */
#define BENCH_SERVICE "bench.echo"

typedef struct {
    int requests;               /* (a): sequential round trips               */
    int pipelined;              /* (b): messages sent through the window     */
    int window;                 /* (b): requests kept in flight              */
    int workers;                /* (b): worker processes                     */
    int credit;                 /* (b): credit of each worker                */
    bool inline_handler;        /* workers run their handler inline          */
    size_t size;                /* body bytes of every request               */
    int warmup;                 /* untimed round trips before each phase     */
    bool json;                  /* machine-readable output                   */
} bench_config_t;

/*  One measured phase: how many echoes came back intact, in how long.      */
typedef struct {
    uint64_t messages;
    int64_t elapsed_us;
} bench_figure_t;

/*  Fills body (size bytes) with a pattern the echo must return unchanged. */
void bench_body_fill (uint8_t *body, size_t size);

#endif
