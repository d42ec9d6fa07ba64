/*  hw_options - hearth-worker's command line. */
#include "hw_options.h"
#include "hearth/hearth.h"
#include "hearth_log.h"

#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#define S_FIELD(name) offsetof (hw_options_t, name)
#define S_HELP_COLUMN 27

static const char *const s_framings[] = { "line", "length", NULL };
_Static_assert (sizeof (hw_framing_t) == sizeof (int),
                "an ENUM setting is stored as an int");

/*  INT_MAX / 2: a timeout is added to a clock reading without overflow.   */
const hearth_setting_t hw_settings[] = {
    { .key = "processes", .letter = 'n', .type = HEARTH_SETTING_INT,
      .offset = S_FIELD (processes), .min = 1, .max = HW_PROCESSES_MAX,
      .value = 1, .metavar = "N",
      .help = "children kept warm (per-request: at once)" },
    { .key = "timeout_ms", .alias = "timeout", .type = HEARTH_SETTING_INT,
      .offset = S_FIELD (timeout_ms), .min = 1, .max = INT_MAX / 2,
      .value = 30000, .metavar = "MS",
      .help = "per request; a child past it is killed" },
    { .key = "start_timeout_ms", .alias = "start-timeout",
      .type = HEARTH_SETTING_INT, .offset = S_FIELD (start_timeout_ms),
      .min = 1, .max = INT_MAX / 2, .value = 60000,
      .metavar = "MS", .help = "to print the ready line" },
    { .key = "ready_line", .type = HEARTH_SETTING_STRING,
      .offset = S_FIELD (ready_line), .metavar = "TEXT",
      .help = "a child is ready once it prints this line" },
    { .key = "framing", .type = HEARTH_SETTING_ENUM,
      .offset = S_FIELD (framing), .names = s_framings,
      .value = HW_FRAMING_LINE, .metavar = "line|length",
      .help = "line: one line each way; length: 4-byte big-endian length, "
              "then bytes" },
    { .key = "per_request", .type = HEARTH_SETTING_BOOL,
      .offset = S_FIELD (per_request),
      .help = "run COMMAND once per request (body on stdin, reply is all "
              "of stdout)" },
    { .key = "idempotent", .type = HEARTH_SETTING_BOOL,
      .offset = S_FIELD (idempotent),
      .help = "requests may run again after a crash" },
    { .key = "version_string", .type = HEARTH_SETTING_STRING,
      .offset = S_FIELD (version), .metavar = "V",
      .help = "version in the service descriptor" },
    { .key = "description", .type = HEARTH_SETTING_STRING,
      .offset = S_FIELD (description), .metavar = "TEXT",
      .help = "one line for humans in the descriptor" },
    { .key = "input_schema", .type = HEARTH_SETTING_STRING,
      .offset = S_FIELD (input_schema), .metavar = "TEXT",
      .help = "JSON Schema of the request document, published in the "
              "descriptor (hearth services --json)" },
    { .key = "output_schema", .type = HEARTH_SETTING_STRING,
      .offset = S_FIELD (output_schema), .metavar = "TEXT",
      .help = "JSON Schema of the reply document, likewise" },
    { .key = "example", .type = HEARTH_SETTING_STRING,
      .offset = S_FIELD (example), .metavar = "TEXT",
      .help = "an example request body, likewise" },
    HEARTH_SETTING_END
};

void
hw_options_usage (FILE *out)
{
    fprintf (out,
"Usage: hearth-worker -s SERVICE [OPTIONS] -- COMMAND [ARGS...]\n"
"Keeps COMMAND running and serves it as SERVICE on a Hearth broker: each\n"
"request body goes to a child's stdin, its reply comes from its stdout.\n"
"\n"
"  -s, --service NAME       service to register (required)\n"
"  -b, --broker ENDPOINT    broker (default $HEARTH_BROKER, else %s)\n",
             HEARTH_DEFAULT_ENDPOINT);
    hearth_settings_usage (hw_settings, S_HELP_COLUMN, out);
    fprintf (out,
"  -v, --verbose            debug logging\n"
"  -h, --help               this help\n"
"\n"
"Exit 0 after SIGINT/SIGTERM (children stopped), 1 if the broker refuses\n"
"the service, 2 on usage errors. Protocol: schemas/WORKER.md.\n");
}

int
hw_options_parse (hw_options_t *o, const char *endpoint, int argc,
                  char **argv)
{
    static const struct option extra[] = {
        { "service", required_argument, NULL, 's' },
        { "broker", required_argument, NULL, 'b' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    memset (o, 0, sizeof *o);
    hearth_settings_defaults (hw_settings, o);
    o->endpoint = endpoint && *endpoint ? endpoint : HEARTH_DEFAULT_ENDPOINT;
    hearth_settings_getopt_t parser;
    /*  "+": stop at COMMAND, so its own options are not ours.              */
    hearth_settings_getopt_init (&parser, hw_settings, "+s:b:vh", extra);
    int opt, index = -1, rc = 0;
    opterr = 1;
    /*  getopt_long sets index only for a long option: reset it each time,
        or a short option's error would name the last long one.             */
    while (rc == 0 && (index = -1,
                       opt = getopt_long (argc, argv, parser.shorts,
                                          parser.options, &index)) != -1) {
        const hearth_setting_t *setting =
            hearth_settings_getopt_setting (&parser, opt);
        char why[256];
        if (setting) {
            rc = hearth_settings_getopt_apply (&parser, setting, optarg, index,
                                               o, why, sizeof why);
            if (rc)
                fprintf (stderr, "hearth-worker: %s\n", why);
        }
        else
        if (opt == 's')
            o->service = optarg;
        else
        if (opt == 'b')
            o->endpoint = optarg;
        else
        if (opt == 'v')
            hearth_log_set_level (HEARTH_LOG_DEBUG);
        else
        if (opt == 'h') {
            hw_options_usage (stdout);
            return 1;
        }
        else
            rc = -1;
        index = -1;
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
