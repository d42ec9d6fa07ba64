/*  hearth-broker - command line front end of the Hearth broker.
    Parses options, binds, and runs the broker until SIGINT or SIGTERM.
*/
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearth/hearth.h"
#include "hearth_broker.h"
#include "hearth_log.h"

#define S_BINDS_MAX 16
#define S_PIPELINES_MAX 256

static hearth_broker_t *s_broker;

static void
s_on_signal (int signum)
{
    (void) signum;
    if (s_broker)
        hearth_broker_stop (s_broker);
}

static void
s_usage (FILE *out)
{
    fprintf (out,
"Usage: hearth-broker [OPTIONS]\n"
"Routes requests from Hearth (HMP/1) and Majordomo (MDP/0.1) clients to\n"
"workers of the requested service.\n"
"\n"
"Options:\n"
"  -b, --bind ENDPOINT       bind here (repeatable; default %s;\n"
"                            tcp://127.0.0.1:* picks a free port)\n"
"      --heartbeat MS        heartbeat interval told to workers (default %d)\n"
"      --liveness N          missed heartbeats before a worker is dead (default %d)\n"
"      --queue-max N         requests queued per service; more get 503 (default %d)\n"
"      --max-message BYTES   largest message; larger requests get 413 (default %d)\n"
"      --max-pending-bytes BYTES\n"
"                            all requests the broker holds (queued, at workers,\n"
"                            in pipelines); past it new ones get 503 (default %d)\n"
"      --default-deadline MS deadline of requests that carry none (default %d)\n"
"      --linger MS           keep a service with no workers this long (default %d)\n"
"      --grace MS            drain time on SIGINT/SIGTERM (default %d)\n"
"      --pipeline NAME=ROUTE requests for NAME run ROUTE, e.g. a,[b,c],d\n"
"                            (repeatable)\n"
"  -v, --verbose             log debug lines\n"
"      --log-level LEVEL     error, warn, info or debug (default info, or $HEARTH_LOG)\n"
"  -h, --help                this help\n"
"  -V, --version             print the version\n"
"\n"
"Exit status: 0 after a clean stop, 1 on a runtime failure, 2 on a usage error.\n"
"Protocol: schemas/PROTOCOL.md.\n",
             HEARTH_DEFAULT_ENDPOINT, HEARTH_DEFAULT_HEARTBEAT_MS,
             HEARTH_DEFAULT_LIVENESS, HEARTH_DEFAULT_QUEUE_MAX,
             HEARTH_DEFAULT_MAX_MESSAGE, HEARTH_DEFAULT_MAX_PENDING_BYTES,
             HEARTH_DEFAULT_DEADLINE_MS,
             HEARTH_DEFAULT_LINGER_MS, HEARTH_DEFAULT_GRACE_MS);
}

/*  Parses a whole decimal number in [min, max]; -1 with a message if not.  */
static int
s_number (const char *option, const char *text, long long min, long long max,
          long long *value)
{
    char *end;
    errno = 0;
    long long number = strtoll (text, &end, 10);
    if (errno || end == text || *end || number < min || number > max) {
        fprintf (stderr, "hearth-broker: %s needs a whole number from %lld to "
                 "%lld, not '%s'\n", option, min, max, text);
        return -1;
    }
    *value = number;
    return 0;
}

enum { OPT_HEARTBEAT = 256, OPT_LIVENESS, OPT_QUEUE_MAX, OPT_MAX_MESSAGE,
       OPT_MAX_PENDING,
       OPT_DEADLINE, OPT_LINGER, OPT_GRACE, OPT_LOG_LEVEL, OPT_PIPELINE };

static const struct option s_options[] = {
    { "bind", required_argument, NULL, 'b' },
    { "heartbeat", required_argument, NULL, OPT_HEARTBEAT },
    { "liveness", required_argument, NULL, OPT_LIVENESS },
    { "queue-max", required_argument, NULL, OPT_QUEUE_MAX },
    { "max-message", required_argument, NULL, OPT_MAX_MESSAGE },
    { "max-pending-bytes", required_argument, NULL, OPT_MAX_PENDING },
    { "default-deadline", required_argument, NULL, OPT_DEADLINE },
    { "linger", required_argument, NULL, OPT_LINGER },
    { "grace", required_argument, NULL, OPT_GRACE },
    { "pipeline", required_argument, NULL, OPT_PIPELINE },
    { "verbose", no_argument, NULL, 'v' },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 }
};

/*  Applies one numeric option to config. 0, or -1 after a message.        */
static int
s_numeric_option (int option, const char *arg, hearth_broker_config_t *config)
{
    long long value;
    const char *name = NULL;
    for (int i = 0; s_options[i].name; i++)
        if (s_options[i].val == option)
            name = s_options[i].name;
    if (s_number (name, arg, 0, LLONG_MAX, &value))
        return -1;
    int clamped = value > INT_MAX ? INT_MAX : (int) value;
    switch (option) {
        case OPT_HEARTBEAT:   config->heartbeat_ms = clamped; break;
        case OPT_LIVENESS:    config->liveness = clamped; break;
        case OPT_QUEUE_MAX:   config->queue_max = clamped; break;
        case OPT_MAX_MESSAGE: config->max_message = (size_t) value; break;
        case OPT_MAX_PENDING: config->max_pending_bytes = (size_t) value; break;
        case OPT_DEADLINE:    config->default_deadline_ms = clamped; break;
        case OPT_LINGER:      config->linger_ms = clamped; break;
        case OPT_GRACE:       config->grace_ms = clamped; break;
    }
    return 0;
}

/*  Parses argv into config and binds. 0, or the exit status to use.       */
typedef struct {
    const char *binds[S_BINDS_MAX];
    int bind_count;
    const char *pipelines[S_PIPELINES_MAX];   /* "NAME=ROUTE" */
    int pipeline_count;
} s_args_t;

static int
s_parse (int argc, char **argv, hearth_broker_config_t *config, s_args_t *args)
{
    int option;
    while ((option = getopt_long (argc, argv, "b:vhV", s_options, NULL)) != -1) {
        if (option == 'b') {
            if (args->bind_count == S_BINDS_MAX) {
                fprintf (stderr, "hearth-broker: at most %d --bind\n", S_BINDS_MAX);
                return 2;
            }
            args->binds[args->bind_count++] = optarg;
        }
        else
        if (option == OPT_PIPELINE) {
            if (args->pipeline_count == S_PIPELINES_MAX || !strchr (optarg, '=')) {
                fprintf (stderr, "hearth-broker: --pipeline takes NAME=ROUTE "
                         "(at most %d), not '%s'\n", S_PIPELINES_MAX, optarg);
                return 2;
            }
            args->pipelines[args->pipeline_count++] = optarg;
        }
        else
        if (option == 'v')
            hearth_log_set_level (HEARTH_LOG_DEBUG);
        else
        if (option == OPT_LOG_LEVEL) {
            int level = hearth_log_level_parse (optarg);
            if (level < 0) {
                fprintf (stderr, "hearth-broker: --log-level takes error, warn, "
                         "info or debug, not '%s'\n", optarg);
                return 2;
            }
            hearth_log_set_level (level);
        }
        else
        if (option == 'h') {
            s_usage (stdout);
            exit (0);
        }
        else
        if (option == 'V') {
            printf ("hearth-broker %s\n", HEARTH_VERSION_STRING);
            exit (0);
        }
        else
        if (option < OPT_HEARTBEAT || s_numeric_option (option, optarg, config)) {
            if (option < OPT_HEARTBEAT)
                s_usage (stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "hearth-broker: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    const char *invalid = hearth_broker_config_check (config);
    if (invalid) {
        fprintf (stderr, "hearth-broker: %s\n", invalid);
        return 2;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    hearth_log_set_ident ("hearth-broker");
    hearth_broker_config_t config;
    hearth_broker_config_defaults (&config);
    s_args_t args = { .bind_count = 0, .pipeline_count = 0 };
    int rc = s_parse (argc, argv, &config, &args);
    if (rc)
        return rc;
    if (args.bind_count == 0)
        args.binds[args.bind_count++] = HEARTH_DEFAULT_ENDPOINT;

    s_broker = hearth_broker_new (&config);
    if (!s_broker)
        return 1;
    for (int i = 0; i < args.pipeline_count; i++) {
        char name[HEARTH_SERVICE_MAX + 2], error[512];
        const char *equals = strchr (args.pipelines[i], '=');
        snprintf (name, sizeof name, "%.*s", (int) (equals - args.pipelines[i]),
                  args.pipelines[i]);
        if (hearth_broker_add_pipeline (s_broker, name, equals + 1, error,
                                        sizeof error)) {
            fprintf (stderr, "hearth-broker: %s\n", error);
            hearth_broker_destroy (&s_broker);
            return 2;
        }
    }
    for (int i = 0; i < args.bind_count; i++) {
        char resolved[256];
        const char *bind = args.binds[i];
        if (hearth_broker_bind (s_broker, bind, resolved, sizeof resolved)) {
            hearth_log_error ("cannot bind %s: %s", bind, strerror (errno));
            hearth_broker_destroy (&s_broker);
            return 1;
        }
        hearth_log_info ("listening on %s", resolved);
    }
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    signal (SIGPIPE, SIG_IGN);

    rc = hearth_broker_run (s_broker);
    hearth_broker_destroy (&s_broker);
    return rc ? 1 : 0;
}
