/*  hearth-worker - keeps any stdin/stdout program warm as a Hearth service.

    A thin main over hw_host: parse the command line, block the stop
    signals, start the host and wait. See schemas/WORKER.md.
*/
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hearth/hearth.h"
#include "hearth_log.h"
#include "hw_host.h"

#define S_EXIT_USAGE 2

static void
s_usage (FILE *out)
{
    fprintf (out,
"Usage: hearth-worker -s SERVICE [OPTIONS] -- COMMAND [ARGS...]\n"
"Keeps COMMAND running and serves it as SERVICE on a Hearth broker: each\n"
"request body goes to a child's stdin, its reply comes from its stdout.\n"
"\n"
"  -s, --service NAME       service to register (required)\n"
"  -b, --broker ENDPOINT    broker (default $HEARTH_BROKER, else %s)\n"
"  -n, --processes N        children kept warm (per-request: at once), default 1\n"
"      --timeout MS         per request, default %d; a child past it is killed\n"
"      --start-timeout MS   to print the ready line, default %d\n"
"      --ready-line TEXT    a child is ready once it prints this line\n"
"      --framing line|length  line (default): one line each way;\n"
"                           length: 4-byte big-endian length, then bytes\n"
"      --per-request        run COMMAND once per request (body on stdin,\n"
"                           reply is all of stdout)\n"
"      --idempotent         requests may run again after a crash\n"
"      --version-string V   version in the service descriptor\n"
"      --description TEXT   one line for humans in the descriptor\n"
"      --input-schema TEXT  JSON Schema of the request document, published\n"
"                           in the descriptor (hearth services --json)\n"
"      --output-schema TEXT JSON Schema of the reply document, likewise\n"
"      --example TEXT       an example request body, likewise\n"
"  -v, --verbose            debug logging\n"
"  -h, --help               this help\n"
"\n"
"Exit 0 after SIGINT/SIGTERM (children stopped), 1 if the broker refuses\n"
"the service, 2 on usage errors. Protocol: schemas/WORKER.md.\n",
             HEARTH_DEFAULT_ENDPOINT, HW_DEFAULT_TIMEOUT_MS,
             HW_DEFAULT_START_TIMEOUT_MS);
}

static int
s_int (const char *text, const char *name, int min, int max, int *value)
{
    char *end;
    errno = 0;
    long number = strtol (text, &end, 10);
    if (errno || end == text || *end || number < min || number > max) {
        fprintf (stderr, "hearth-worker: %s must be an integer from %d to "
                 "%d, not '%s'\n", name, min, max, text);
        return -1;
    }
    *value = (int) number;
    return 0;
}

enum {
    S_OPT_TIMEOUT = 256, S_OPT_START_TIMEOUT, S_OPT_READY, S_OPT_FRAMING,
    S_OPT_PER_REQUEST, S_OPT_IDEMPOTENT, S_OPT_VERSION, S_OPT_DESCRIPTION,
    S_OPT_INPUT_SCHEMA, S_OPT_OUTPUT_SCHEMA, S_OPT_EXAMPLE
};

/*  Returns 0, 1 if help was printed, or -1 on a usage error (printed).    */
static int
s_parse (int argc, char **argv, hw_options_t *o)
{
    static const struct option longs[] = {
        { "service", required_argument, NULL, 's' },
        { "broker", required_argument, NULL, 'b' },
        { "processes", required_argument, NULL, 'n' },
        { "timeout", required_argument, NULL, S_OPT_TIMEOUT },
        { "start-timeout", required_argument, NULL, S_OPT_START_TIMEOUT },
        { "ready-line", required_argument, NULL, S_OPT_READY },
        { "framing", required_argument, NULL, S_OPT_FRAMING },
        { "per-request", no_argument, NULL, S_OPT_PER_REQUEST },
        { "idempotent", no_argument, NULL, S_OPT_IDEMPOTENT },
        { "version-string", required_argument, NULL, S_OPT_VERSION },
        { "description", required_argument, NULL, S_OPT_DESCRIPTION },
        { "input-schema", required_argument, NULL, S_OPT_INPUT_SCHEMA },
        { "output-schema", required_argument, NULL, S_OPT_OUTPUT_SCHEMA },
        { "example", required_argument, NULL, S_OPT_EXAMPLE },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int opt, rc = 0;
    opterr = 1;
    /*  "+": stop at COMMAND, so its own options are not ours.              */
    while (rc == 0
       &&  (opt = getopt_long (argc, argv, "+s:b:n:vh", longs, NULL)) != -1) {
        switch (opt) {
            case 's': o->service = optarg; break;
            case 'b': o->endpoint = optarg; break;
            case 'n':
                rc = s_int (optarg, "-n", 1, HW_PROCESSES_MAX, &o->processes);
                break;
            case S_OPT_TIMEOUT:
                rc = s_int (optarg, "--timeout", 1, INT_MAX / 2, &o->timeout_ms);
                break;
            case S_OPT_START_TIMEOUT:
                rc = s_int (optarg, "--start-timeout", 1, INT_MAX / 2,
                            &o->start_timeout_ms);
                break;
            case S_OPT_READY: o->ready_line = optarg; break;
            case S_OPT_FRAMING:
                if (hw_framing_parse (optarg, &o->framing)) {
                    fprintf (stderr, "hearth-worker: --framing is line or "
                             "length, not '%s'\n", optarg);
                    rc = -1;
                }
                break;
            case S_OPT_PER_REQUEST: o->per_request = true; break;
            case S_OPT_IDEMPOTENT: o->idempotent = true; break;
            case S_OPT_VERSION: o->version = optarg; break;
            case S_OPT_DESCRIPTION: o->description = optarg; break;
            case S_OPT_INPUT_SCHEMA: o->input_schema = optarg; break;
            case S_OPT_OUTPUT_SCHEMA: o->output_schema = optarg; break;
            case S_OPT_EXAMPLE: o->example = optarg; break;
            case 'v': hearth_log_set_level (HEARTH_LOG_DEBUG); break;
            case 'h': s_usage (stdout); return 1;
            default: rc = -1;
        }
    }
    if (rc == 0 && !o->service) {
        fprintf (stderr, "hearth-worker: -s SERVICE is required\n");
        rc = -1;
    }
    if (rc == 0 && optind >= argc) {
        fprintf (stderr, "hearth-worker: no COMMAND after --\n");
        rc = -1;
    }
    o->argv = argv + optind;
    return rc;
}

/*  Waits for SIGINT/SIGTERM (blocked in every thread, taken here) or for
    the host to fail on its own.                                            */
static int
s_wait (hw_host_t *host, const sigset_t *signals)
{
    struct timespec tick = { 0, 200 * 1000000L };
    while (!hw_host_failed (host)) {
        int sig = sigtimedwait (signals, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
            hearth_log_info ("%s: stopping children", sig == SIGINT
                             ? "SIGINT" : "SIGTERM");
            return 0;
        }
    }
    return 1;
}

int
main (int argc, char **argv)
{
    hearth_log_set_ident ("hearth-worker");
    const char *env = getenv ("HEARTH_BROKER");
    hw_options_t options = {
        .endpoint = env && *env ? env : HEARTH_DEFAULT_ENDPOINT,
        .processes = 1,
        .timeout_ms = HW_DEFAULT_TIMEOUT_MS,
        .start_timeout_ms = HW_DEFAULT_START_TIMEOUT_MS,
        .framing = HW_FRAMING_LINE,
    };
    int rc = s_parse (argc, argv, &options);
    if (rc) {
        if (rc < 0)
            fprintf (stderr, "Try 'hearth-worker --help'.\n");
        return rc > 0 ? 0 : S_EXIT_USAGE;
    }
    /*  Python block-buffers stdout on a pipe, so an expert that prints its
        reply without flushing would never answer: ask Python not to, as a
        terminal would. Set before any thread exists; a value the user set
        (even empty, which turns it off) is kept. WORKER.md section 1.      */
    setenv ("PYTHONUNBUFFERED", "1", 0);
    /*  Blocked before any thread exists, so every thread inherits it and
        only sigtimedwait below sees the stop signals. Children get an
        empty mask from posix_spawn.                                         */
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    hw_host_t *host = hw_host_new (&options);
    if (!host)
        return S_EXIT_USAGE;
    int result = 1;
    if (hw_host_start (host) == 0)
        result = s_wait (host, &signals);
    hw_host_destroy (&host);
    hearth_log_info ("stopped");
    return result;
}
