/*  hearth-bench - how fast is the mesh, next to the transport it runs on?

    In one run it measures, each against a baseline measured in the same
    run on the same machine:
      (a) synchronous round trips: hearth_client_call through the broker to
          a native echo worker of credit 1, against a raw libzmq DEALER ->
          ROUTER echo;
      (b) pipelined throughput: a window of requests in flight to W echo
          workers of credit C, against the raw echo with the same window.
    The broker, the workers and the raw echo server run in child processes;
    this process is the client. See bench/README.md.
*/
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_mesh.h"
#include "bench_proc.h"
#include "bench_raw.h"
#include "hearth/hearth.h"
#include "hearth_log.h"
#include "hearth_number.h"

#define S_WORKERS_MAX 64
#define S_SYNC_SERVICE "bench.sync"
/*  Baseline and hearth take turns, this many rounds each, so a change in
    the machine's load during the run falls on both sides alike.            */
#define S_ROUNDS 5

/*  What the run produced: the four figures and whether each phase ran.    */
typedef struct {
    bench_figure_t raw_sync, raw_pipe, mesh_sync, mesh_pipe;
    bench_figure_t broker_sync;     /* (a) against hearth.ping: no worker  */
    bool failed;
} s_results_t;

void
bench_body_fill (uint8_t *body, size_t size)
{
    for (size_t i = 0; i < size; i++)
        body[i] = (uint8_t) ('a' + i % 26);
}

static void
s_usage (FILE *out)
{
    fprintf (out,
        "Usage: hearth-bench [options]\n"
        "Measures hearth against raw libzmq on this machine, in one run.\n"
        "  --quick          tiny counts, for a smoke test\n"
        "  --requests N     (a) synchronous round trips (default 20000)\n"
        "  --messages N     (b) pipelined messages (default 5 x requests)\n"
        "  --window N       (b) requests in flight (default 100)\n"
        "  --workers W      (b) worker processes (default 1)\n"
        "  --credit C       (b) credit of each worker (default 100)\n"
        "  --inline         workers of credit 1 run their handler inline (no\n"
        "                   hand-off to a handler thread: (a), and (b) with\n"
        "                   --credit 1; hearth_worker_set_inline)\n"
        "  --size BYTES     request body size (default 64)\n"
        "  --json           machine-readable output\n"
        "  --help           this text\n");
}

/*  Fills config from argv; returns 0, 1 for --help, or -1 on bad input.    */
static int
s_parse (int argc, char *argv[], bench_config_t *config)
{
    static const struct option options[] = {
        { "quick", no_argument, NULL, 'q' },
        { "requests", required_argument, NULL, 'n' },
        { "messages", required_argument, NULL, 'm' },
        { "window", required_argument, NULL, 'w' },
        { "workers", required_argument, NULL, 'W' },
        { "credit", required_argument, NULL, 'c' },
        { "inline", no_argument, NULL, 'i' },
        { "size", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    *config = (bench_config_t) { .requests = 20000, .pipelined = -1,
                                 .window = 100, .workers = 1, .credit = 100,
                                 .size = 64, .warmup = 200 };
    int option;
    long long value = 0;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        const char *arg = optarg;
        switch (option) {
            case 'q': config->requests = 300; config->pipelined = 2000;
                      config->warmup = 20; continue;
            case 'j': config->json = true; continue;
            case 'i': config->inline_handler = true; continue;
            case 'h': return 1;
            case 'n': if (hearth_number_parse (arg, 1, 100000000, &value)) break;
                      config->requests = (int) value; continue;
            case 'm': if (hearth_number_parse (arg, 1, 100000000, &value)) break;
                      config->pipelined = (int) value; continue;
            case 'w': if (hearth_number_parse (arg, 1, 50000, &value)) break;
                      config->window = (int) value; continue;
            case 'W': if (hearth_number_parse (arg, 1, S_WORKERS_MAX, &value)) break;
                      config->workers = (int) value; continue;
            case 'c': if (hearth_number_parse (arg, 1, HEARTH_CREDIT_MAX, &value)) break;
                      config->credit = (int) value; continue;
            case 's': if (hearth_number_parse (arg, 0, 1 << 24, &value)) break;
                      config->size = (size_t) value; continue;
            default: return -1;
        }
        for (const struct option *o = options; o->name; o++)
            if (o->val == option)
                fprintf (stderr, "hearth-bench: bad value '%s' for --%s\n",
                         arg, o->name);
        return -1;
    }
    if (optind < argc) {
        fprintf (stderr, "hearth-bench: unexpected argument '%s'\n",
                 argv[optind]);
        return -1;
    }
    if (config->pipelined < 0)
        config->pipelined = config->requests * 5;
    return 0;
}

/*  The child processes of a run, stopped together at the end.              */
typedef struct {
    pid_t raw, broker;
    pid_t workers[S_WORKERS_MAX];
    int worker_count;
    char raw_endpoint[256];
    char endpoint[256];
} s_children_t;

/*  Starts count workers of service. Returns 0, or -1 (those started stay in
    children, for s_stop_all).                                                */
static int
s_workers_start (s_children_t *children, const bench_worker_args_t *args,
                 int count)
{
    for (int i = 0; i < count; i++) {
        char line[64];
        pid_t pid = bench_proc_start (bench_mesh_worker, (void *) args, line,
                                      sizeof line, BENCH_READY_LIMIT_MS);
        if (pid < 0) {
            fprintf (stderr, "hearth-bench: worker %d did not register\n", i);
            return -1;
        }
        children->workers[children->worker_count++] = pid;
    }
    return 0;
}

/*  Stops every worker; returns 0, or -1 if any of them failed.             */
static int
s_workers_stop (s_children_t *children)
{
    int rc = 0;
    for (int i = 0; i < children->worker_count; i++)
        if (bench_proc_stop (children->workers[i], 5000) != 0) {
            fprintf (stderr, "hearth-bench: worker %d failed\n", i);
            rc = -1;
        }
    children->worker_count = 0;
    return rc;
}

/*  Stops everything still running; returns 0, or -1 if anything failed.   */
static int
s_stop_all (s_children_t *children)
{
    int rc = s_workers_stop (children);
    if (children->broker > 0 && bench_proc_stop (children->broker, 5000)) {
        fprintf (stderr, "hearth-bench: broker failed\n");
        rc = -1;
    }
    if (children->raw > 0 && bench_proc_stop (children->raw, 5000)) {
        fprintf (stderr, "hearth-bench: raw echo server failed\n");
        rc = -1;
    }
    return rc;
}

/*  The raw echo server and the broker; both idle while the other side is
    measured (a poll timeout, a heartbeat a second).                         */
static int
s_servers_start (s_children_t *children, const bench_config_t *config)
{
    children->raw = bench_proc_start (bench_raw_serve, NULL,
                                      children->raw_endpoint,
                                      sizeof children->raw_endpoint,
                                      BENCH_READY_LIMIT_MS);
    if (children->raw < 0) {
        fprintf (stderr, "hearth-bench: raw echo server did not start\n");
        return -1;
    }
    children->broker = bench_proc_start (bench_mesh_broker, (void *) config,
                                         children->endpoint,
                                         sizeof children->endpoint,
                                         BENCH_READY_LIMIT_MS);
    if (children->broker < 0) {
        fprintf (stderr, "hearth-bench: broker did not start\n");
        return -1;
    }
    return 0;
}

static void
s_add (bench_figure_t *total, const bench_figure_t *part)
{
    total->messages += part->messages;
    total->elapsed_us += part->elapsed_us;
}

/*  The share of total that round r of S_ROUNDS does.                       */
static int
s_share (int total, int r)
{
    return total / S_ROUNDS + (r < total % S_ROUNDS ? 1 : 0);
}

/*  (a): raw, hearth and broker-only round trips, a round of each in turn. */
static int
s_run_sync (const bench_config_t *config, s_children_t *children,
            s_results_t *results)
{
    bench_worker_args_t sync = { children->endpoint, S_SYNC_SERVICE, 1,
                                 config->inline_handler };
    if (s_workers_start (children, &sync, 1))
        return -1;
    for (int r = 0; r < S_ROUNDS; r++) {
        int count = s_share (config->requests, r);
        bench_figure_t raw, mesh, broker;
        if (count == 0)
            continue;
        if (bench_raw_run (config, children->raw_endpoint, count, 1, &raw)
        ||  bench_mesh_sync (config, children->endpoint, S_SYNC_SERVICE,
                             count, &mesh)
        /*  hearth.ping is answered by the broker itself: the same loop
            without the worker hop shows where a round trip's time goes.     */
        ||  bench_mesh_sync (config, children->endpoint, HEARTH_SVC_PING,
                             count, &broker))
            return -1;
        s_add (&results->raw_sync, &raw);
        s_add (&results->mesh_sync, &mesh);
        s_add (&results->broker_sync, &broker);
    }
    return s_workers_stop (children);
}

/*  (b): raw and hearth pipelined throughput, a round of each in turn.      */
static int
s_run_pipelined (const bench_config_t *config, s_children_t *children,
                 s_results_t *results)
{
    bench_worker_args_t pipe = { children->endpoint, BENCH_SERVICE,
                                 config->credit,
                                 config->inline_handler && config->credit == 1 };
    if (s_workers_start (children, &pipe, config->workers))
        return -1;
    for (int r = 0; r < S_ROUNDS; r++) {
        int count = s_share (config->pipelined, r);
        bench_figure_t raw, mesh;
        if (count == 0)
            continue;
        if (bench_raw_run (config, children->raw_endpoint, count,
                           config->window, &raw)
        ||  bench_mesh_pipelined (config, children->endpoint, BENCH_SERVICE,
                                  count, config->window, &mesh))
            return -1;
        s_add (&results->raw_pipe, &raw);
        s_add (&results->mesh_pipe, &mesh);
    }
    return s_workers_stop (children);
}

/*  Every figure counted every message in a measurable time: a phase that
    "finished" otherwise would print a meaningless table.                   */
static bool
s_sane (const s_results_t *r)
{
    const bench_figure_t *figures[] = { &r->raw_sync, &r->raw_pipe,
                                        &r->mesh_sync, &r->mesh_pipe,
                                        &r->broker_sync };
    for (int i = 0; i < 5; i++)
        if (figures[i]->messages == 0 || figures[i]->elapsed_us <= 0) {
            fprintf (stderr, "hearth-bench: figure %d is empty\n", i);
            return false;
        }
    return true;
}

/*  Runs every phase; returns 0, or -1 if anything failed.                  */
static int
s_run (const bench_config_t *config, s_results_t *results)
{
    s_children_t children = { .raw = -1, .broker = -1 };
    int rc = s_servers_start (&children, config);
    if (rc == 0)
        rc = s_run_sync (config, &children, results);
    if (rc == 0)
        rc = s_run_pipelined (config, &children, results);
    if (s_stop_all (&children))
        rc = -1;
    return rc == 0 && s_sane (results) ? 0 : -1;
}

/*  Aims the brief set: hearth at this fraction of raw libzmq at least.     */
#define S_AIM_SYNC 0.4
#define S_AIM_PIPE 0.2

static double
s_rate (const bench_figure_t *figure)
{
    return figure->elapsed_us > 0
         ? (double) figure->messages * 1e6 / (double) figure->elapsed_us : 0;
}

static double
s_us_each (const bench_figure_t *figure)
{
    return figure->messages
         ? (double) figure->elapsed_us / (double) figure->messages : 0;
}

static double
s_ratio (const bench_figure_t *hearth, const bench_figure_t *baseline)
{
    double base = s_rate (baseline);
    return base > 0 ? s_rate (hearth) / base : 0;
}

static void
s_print_table (const bench_config_t *config, const s_results_t *r)
{
    char pipe_name[96];
    snprintf (pipe_name, sizeof pipe_name, "(b) pipelined W=%d C=%d win=%d%s",
              config->workers, config->credit, config->window,
              config->inline_handler && config->credit == 1 ? " inline" : "");
    printf ("hearth-bench %s: body %zu B, (a) %d round trips, "
            "(b) %d messages%s\n\n", HEARTH_VERSION_STRING, config->size,
            config->requests, config->pipelined,
            config->inline_handler ? ", credit-1 workers inline" : "");
    printf ("%-47s | %12s | %12s | %6s\n", "benchmark", "baseline", "hearth",
            "ratio");
    printf ("%-47s-|-%12s-|-%12s-|-%6s\n",
            "-----------------------------------------------", "------------",
            "------------", "------");
    printf ("%-47s | %12.0f | %12.0f | %6.2f\n", "(a) sync round trips, calls/s",
            s_rate (&r->raw_sync), s_rate (&r->mesh_sync),
            s_ratio (&r->mesh_sync, &r->raw_sync));
    printf ("%-47s | %12.1f | %12.1f | %6s\n", "(a) sync round trip, us/call",
            s_us_each (&r->raw_sync), s_us_each (&r->mesh_sync), "");
    printf ("%-47s | %12.0f | %12.0f | %6.2f\n",
            "(a') broker only (hearth.ping), calls/s", s_rate (&r->raw_sync),
            s_rate (&r->broker_sync), s_ratio (&r->broker_sync, &r->raw_sync));
    printf ("%-47s | %12.0f | %12.0f | %6.2f\n",
            strcat (pipe_name, ", msgs/s"), s_rate (&r->raw_pipe),
            s_rate (&r->mesh_pipe), s_ratio (&r->mesh_pipe, &r->raw_pipe));
    printf ("\nratio = hearth / baseline; aims: (a) >= %.1f, (b) >= %.1f "
            "(%s, %s)\n", S_AIM_SYNC, S_AIM_PIPE,
            s_ratio (&r->mesh_sync, &r->raw_sync) >= S_AIM_SYNC
            ? "(a) met" : "(a) NOT met",
            s_ratio (&r->mesh_pipe, &r->raw_pipe) >= S_AIM_PIPE
            ? "(b) met" : "(b) NOT met");
}

static void
s_print_json_row (const char *name, const bench_figure_t *baseline,
                  const bench_figure_t *hearth, double aim, bool last)
{
    /*  A diagnostic row has no aim: null, not a made-up 0.                 */
    char aim_text[16] = "null";
    if (aim > 0)
        snprintf (aim_text, sizeof aim_text, "%.1f", aim);
    printf ("    {\"benchmark\": \"%s\", \"unit\": \"msgs/s\", "
            "\"baseline\": %.1f, \"hearth\": %.1f, \"ratio\": %.4f, "
            "\"aim\": %s, \"baseline_us\": %.2f, \"hearth_us\": %.2f, "
            "\"messages\": %" PRIu64 "}%s\n", name, s_rate (baseline),
            s_rate (hearth), s_ratio (hearth, baseline), aim_text,
            s_us_each (baseline), s_us_each (hearth), hearth->messages,
            last ? "" : ",");
}

static void
s_print_json (const bench_config_t *config, const s_results_t *r)
{
    printf ("{\n  \"version\": \"%s\",\n  \"ok\": %s,\n"
            "  \"config\": {\"requests\": %d, \"messages\": %d, "
            "\"window\": %d, \"workers\": %d, \"credit\": %d, "
            "\"inline\": %s, \"size\": %zu},\n  \"results\": [\n",
            HEARTH_VERSION_STRING, r->failed ? "false" : "true",
            config->requests, config->pipelined, config->window,
            config->workers, config->credit,
            config->inline_handler ? "true" : "false", config->size);
    s_print_json_row ("sync", &r->raw_sync, &r->mesh_sync, S_AIM_SYNC, false);
    s_print_json_row ("sync_broker_only", &r->raw_sync, &r->broker_sync, 0,
                      false);
    s_print_json_row ("pipelined", &r->raw_pipe, &r->mesh_pipe, S_AIM_PIPE,
                      true);
    printf ("  ]\n}\n");
}

int
main (int argc, char *argv[])
{
    bench_config_t config;
    int rc = s_parse (argc, argv, &config);
    if (rc) {
        s_usage (rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    /*  Registration chatter from the children would bury the table; set
        HEARTH_LOG=info to see it.                                            */
    if (!getenv ("HEARTH_LOG"))
        hearth_log_set_level (HEARTH_LOG_WARN);
    s_results_t results = { .failed = false };
    if (s_run (&config, &results))
        results.failed = true;
    if (config.json)
        s_print_json (&config, &results);
    else
        s_print_table (&config, &results);
    if (results.failed)
        fprintf (stderr, "hearth-bench: FAILED (see above)\n");
    return results.failed ? 1 : 0;
}
