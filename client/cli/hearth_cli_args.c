/*  hearth_cli_args - global options of the hearth CLI. */
#include "hearth_cli_args.h"
#include "hearth_cli_out.h"
#include "hearth/hearth.h"
#include "hearth_number.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>

void
hearth_cli_args_usage (FILE *out)
{
    fprintf (out,
"Usage: hearth [OPTIONS] COMMAND [ARGS]\n"
"\n"
"Calls services through a Hearth broker.\n"
"\n"
"Commands:\n"
"  call [--idempotent] [--meta] SERVICE [BODY|-]\n"
"                         send BODY (or stdin) to SERVICE, print the reply\n"
"  call [--idempotent] [--meta] --route ROUTE [BODY|-]\n"
"                         send BODY through a route ('a,[b,c],d') or pipeline\n"
"  services [--json] [NAME]\n"
"                         list the services the broker knows\n"
"  run [-j N] [--errors FILE] [--timeout MS] [--idempotent] ROUTE\n"
"                         bulk: JSON lines from stdin through ROUTE, replies\n"
"                         on stdout in input order\n"
"  ping                   check that the broker answers\n"
"  up [-c MESH.yml]       run a whole mesh (broker, workers) from MESH.yml,\n"
"                         or the example experts without -c\n"
"\n"
"Options:\n"
"  -b, --broker ENDPOINT  broker endpoint (default $HEARTH_BROKER, else %s)\n"
"      --timeout MS       deadline of each request in ms (default %d)\n"
"  -v, --verbose          log what happens to stderr\n"
"  -h, --help             show this help (COMMAND --help: that command's)\n"
"  -V, --version          show the version\n"
"\n"
"Exit status:\n"
"  0 success            1 other error           2 usage error\n"
"  3 broker unreachable or connection lost      4 timeout (504 or local)\n"
"  5 no such service (404)                      6 worker error or lost (500, 502)\n"
"  7 unavailable (503)  8 request refused (400, 403, 413, 501)\n"
"\n"
"Environment:\n"
"  HEARTH_BROKER          default broker endpoint\n"
"  HEARTH_LOG             log level: error, warn, info, debug\n",
             HEARTH_DEFAULT_ENDPOINT, HEARTH_CLI_TIMEOUT_MS);
}

int
hearth_cli_args_int (const char *text, int min, int max, int *value)
{
    return hearth_number_int (text, min, max, value) ? -1 : 0;
}

void
hearth_cli_args_unknown (const char *command, char **argv)
{
    /*  A bad short option may sit inside a cluster ("-vx"): name it alone. */
    if (optopt)
        hearth_cli_out_fail ("unknown option '-%c' (try '%s --help')",
                             optopt, command);
    else
        hearth_cli_out_fail ("unknown option '%s' (try '%s --help')",
                             argv[optind - 1], command);
}

int
hearth_cli_args_parse (int argc, char **argv, hearth_cli_opts_t *opts,
                       int *command)
{
    static const struct option options[] = {
        { "broker",  required_argument, NULL, 'b' },
        { "timeout", required_argument, NULL, 't' },
        { "verbose", no_argument,       NULL, 'v' },
        { "help",    no_argument,       NULL, 'h' },
        { "version", no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    const char *env = getenv ("HEARTH_BROKER");
    opts->broker = env && *env ? env : HEARTH_DEFAULT_ENDPOINT;
    opts->timeout_ms = HEARTH_CLI_TIMEOUT_MS;
    opts->verbose = false;

    /*  '+': stop at COMMAND, whose options are its own. ':' and opterr 0:
        we word the errors ourselves.                                         */
    opterr = 0;
    optind = 0;
    int c;
    while ((c = getopt_long (argc, argv, "+:b:vhV", options, NULL)) != -1) {
        switch (c) {
            case 'b':
                if (!*optarg) {
                    hearth_cli_out_fail ("--broker needs an endpoint");
                    return -1;
                }
                opts->broker = optarg;
                break;
            case 't':
                if (hearth_cli_args_int (optarg, 1, INT_MAX,
                                         &opts->timeout_ms)) {
                    hearth_cli_out_fail ("--timeout: not a positive number "
                                         "of milliseconds: '%s'", optarg);
                    return -1;
                }
                break;
            case 'v':
                opts->verbose = true;
                break;
            case 'h':
                hearth_cli_args_usage (stdout);
                return 1;
            case 'V':
                printf ("hearth %s\n", HEARTH_VERSION_STRING);
                return 1;
            case ':':
                hearth_cli_out_fail ("option '%s' needs a value",
                                     argv[optind - 1]);
                return -1;
            default:
                hearth_cli_args_unknown ("hearth", argv);
                return -1;
        }
    }
    *command = optind;
    return 0;
}
