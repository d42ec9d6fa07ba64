/*  hearth-broker - command line front end of the Hearth broker.
    Parses options, binds, and runs the broker until SIGINT or SIGTERM.
*/
#include <errno.h>
#include <getopt.h>
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

/*  The indent of --help's second column.                                  */
#define S_HELP_COLUMN 28

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
"                            tcp://127.0.0.1:* picks a free port)\n",
             HEARTH_DEFAULT_ENDPOINT);
    hearth_settings_usage (hearth_broker_settings, S_HELP_COLUMN, out);
    fprintf (out,
"      --pipeline NAME=ROUTE requests for NAME run ROUTE, e.g. a,[b,c],d\n"
"                            (repeatable)\n"
"  -v, --verbose             log debug lines\n"
"      --log-level LEVEL     error, warn, info or debug (default info, or $HEARTH_LOG)\n"
"  -h, --help                this help\n"
"  -V, --version             print the version\n"
"\n"
"The settings are those of mesh.yml's broker section (schemas/CONFIG.md).\n"
"Exit status: 0 after a clean stop, 1 on a runtime failure, 2 on a usage error.\n"
"Protocol: schemas/PROTOCOL.md.\n");
}

/*  The options that are not settings: where to bind, pipelines, logging. */
enum { OPT_LOG_LEVEL = 256, OPT_PIPELINE };

static const struct option s_options[] = {
    { "bind", required_argument, NULL, 'b' },
    { "pipeline", required_argument, NULL, OPT_PIPELINE },
    { "verbose", no_argument, NULL, 'v' },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 }
};

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
    hearth_settings_getopt_t parser;
    hearth_settings_getopt_init (&parser, hearth_broker_settings, "b:vhV",
                                 s_options);
    int option, index = -1;
    /*  getopt_long sets index only for a long option: reset it each time,
        or a short option's error would name the last long one.             */
    while ((index = -1,
            option = getopt_long (argc, argv, parser.shorts, parser.options,
                                  &index)) != -1) {
        const hearth_setting_t *setting =
            hearth_settings_getopt_setting (&parser, option);
        char why[256];
        if (setting) {
            if (hearth_settings_getopt_apply (&parser, setting, optarg, index,
                                              config, why, sizeof why)) {
                fprintf (stderr, "hearth-broker: %s\n", why);
                return 2;
            }
        }
        else
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
        else {
            s_usage (stderr);
            return 2;
        }
        index = -1;
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
