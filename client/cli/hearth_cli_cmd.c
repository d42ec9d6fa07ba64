/*  hearth_cli_cmd - call, services and ping. Each command parses its own
    options, makes one client, makes one call and prints the outcome.
*/
#include "hearth_cli_cmd.h"
#include "hearth_cli_json.h"
#include "hearth_cli_out.h"
#include "hearth_cli_run.h"
#include "hearth_cli_services.h"
#include "hearth_cli_up.h"
#include "hearth_clock.h"
#include "hearth_log.h"
#include "hearth/hearth.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*  A body read from stdin larger than this is refused before any broker
    would (its default max_message is 16 MiB).                               */
#define S_STDIN_MAX (256u * 1024 * 1024)

typedef struct {
    const char *name;
    int (*run) (const hearth_cli_opts_t *opts, int argc, char **argv);
    const char *usage;
} s_command_t;

static int s_call (const hearth_cli_opts_t *opts, int argc, char **argv);
static int s_services (const hearth_cli_opts_t *opts, int argc, char **argv);
static int s_ping (const hearth_cli_opts_t *opts, int argc, char **argv);

static const s_command_t s_commands[] = {
    { "call", s_call,
      "Usage: hearth [OPTIONS] call [--idempotent] [--meta] SERVICE [BODY|-]\n"
      "       hearth [OPTIONS] call [--idempotent] [--meta] --route ROUTE [BODY|-]\n"
      "\n"
      "Sends BODY to SERVICE and prints the reply body to stdout (with a final\n"
      "newline if it lacks one). The body is read from stdin when BODY is '-',\n"
      "or when it is absent and stdin is not a terminal. Use '--' before a\n"
      "BODY that starts with '-'.\n"
      "\n"
      "  --route ROUTE  send BODY through a route instead: stages separated by\n"
      "                 commas, a parallel group in brackets ('a,[b,c],d'), or a\n"
      "                 pipeline the broker was given; prints the final document\n"
      "  --idempotent   the broker may resend the request once if its worker dies\n"
      "  --meta         print the reply metadata as one JSON line to stderr (for\n"
      "                 a route, its \"trace\" has one entry per stage call)\n"
      "  -h, --help     show this help\n"
      "\n"
      "Exit status: 0 on a 200 reply, else see 'hearth --help'.\n" },
    { "services", s_services,
      "Usage: hearth [OPTIONS] services [--json] [NAME]\n"
      "\n"
      "Lists the services the broker knows (all, or only NAME) as a table:\n"
      "SERVICE WORKERS MDP CREDIT IN-FLIGHT QUEUED VERSION DESCRIPTION.\n"
      "\n"
      "  --json         print the broker's answer as JSON instead\n"
      "  -h, --help     show this help\n"
      "\n"
      "Exit status: 0, 5 if NAME is unknown, else see 'hearth --help'.\n" },
    { "ping", s_ping,
      "Usage: hearth [OPTIONS] ping\n"
      "\n"
      "Calls hearth.ping and prints 'pong from ENDPOINT in X.XX ms'.\n"
      "\n"
      "  -h, --help     show this help\n"
      "\n"
      "Exit status: 0 when the broker answered, else see 'hearth --help'.\n" },
    { "run", hearth_cli_run, hearth_cli_run_usage },
    { "up", hearth_cli_up, hearth_cli_up_usage },
};

#define S_COMMANDS (sizeof s_commands / sizeof s_commands[0])

/*  Flags a command may take; each command lists the ones it accepts.       */
enum { S_OPT_HELP = 'h', S_OPT_JSON = 1000, S_OPT_META, S_OPT_IDEMPOTENT,
       S_OPT_ROUTE };

typedef struct {
    bool json;
    bool meta;
    bool idempotent;
    const char *route;          /* --route ROUTE (points into argv)          */
    int positional;             /* first non-option argument in argv        */
} s_flags_t;

/*  Parses a command's options. Returns -1 on a usage error (printed), 1
    if help was printed, else 0.                                             */
static int
s_parse (const s_command_t *command, const struct option *options, int argc,
         char **argv, s_flags_t *flags)
{
    memset (flags, 0, sizeof *flags);
    char who[32];
    snprintf (who, sizeof who, "hearth %s", command->name);
    opterr = 0;
    optind = 0;
    int c;
    while ((c = getopt_long (argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
            case S_OPT_HELP:
                fputs (command->usage, stdout);
                return 1;
            case S_OPT_JSON:
                flags->json = true;
                break;
            case S_OPT_META:
                flags->meta = true;
                break;
            case S_OPT_IDEMPOTENT:
                flags->idempotent = true;
                break;
            case S_OPT_ROUTE:
                flags->route = optarg;
                break;
            case ':':
                hearth_cli_out_fail ("%s: option '%s' needs a value", who,
                                     argv[optind - 1]);
                return -1;
            default:
                hearth_cli_args_unknown (who, argv);
                return -1;
        }
    }
    flags->positional = optind;
    return 0;
}

/*  Makes the client every command uses. Returns NULL (error printed) if
    the endpoint is not one ZeroMQ accepts.                                  */
static hearth_client_t *
s_client (const hearth_cli_opts_t *opts)
{
    hearth_client_t *client = hearth_client_new (opts->broker);
    if (!client) {
        char endpoint[256];
        hearth_cli_out_printable (opts->broker, strlen (opts->broker),
                                  endpoint, sizeof endpoint);
        hearth_cli_out_fail ("invalid broker endpoint '%s'", endpoint);
        return NULL;
    }
    hearth_client_set_name (client, "hearth", HEARTH_VERSION_STRING);
    return client;
}

/*  Reads all of stdin into a malloc'd buffer (caller frees). Returns NULL
    (error printed) on a read error or a body over S_STDIN_MAX.              */
static char *
s_read_stdin (size_t *size)
{
    size_t used = 0, max = 4096;
    char *data = malloc (max);
    while (data) {
        if (used == max) {
            char *bigger = max < S_STDIN_MAX ? realloc (data, max * 2) : NULL;
            if (!bigger) {
                hearth_cli_out_fail ("stdin: body too large");
                free (data);
                return NULL;
            }
            data = bigger;
            max *= 2;
        }
        size_t n = fread (data + used, 1, max - used, stdin);
        used += n;
        if (n == 0) {
            if (ferror (stdin)) {
                hearth_cli_out_fail ("stdin: %s", strerror (errno));
                free (data);
                return NULL;
            }
            *size = used;
            return data;
        }
    }
    hearth_cli_out_fail ("stdin: out of memory");
    return NULL;
}

static void
s_log_reply (const char *service, const hearth_reply_t *reply,
             int64_t elapsed_us)
{
    if (hearth_log_level () < HEARTH_LOG_DEBUG)
        return;
    char worker[64] = "-";
    hearth_reply_meta_str (reply, HEARTH_META_WORKER, worker, sizeof worker);
    hearth_log_debug ("%s: %d %s in %.2f ms (queue_ms %" PRId64 ", run_ms %"
                      PRId64 ", worker %s)", service,
                      hearth_reply_status (reply),
                      hearth_status_text (hearth_reply_status (reply)),
                      (double) elapsed_us / 1000.0,
                      hearth_reply_meta_uint (reply, HEARTH_META_QUEUE_MS),
                      hearth_reply_meta_uint (reply, HEARTH_META_RUN_MS),
                      worker);
}

/*  One synchronous call, with what -v wants to know logged.               */
static int
s_do_call (hearth_client_t *client, const hearth_cli_opts_t *opts,
           const char *service, const void *body, size_t size, int flags,
           hearth_reply_t **reply_p, int64_t *elapsed_us)
{
    hearth_log_debug ("calling %s at %s (%zu bytes, timeout %d ms)",
                      service, opts->broker, size, opts->timeout_ms);
    int64_t start = hearth_clock_us ();
    int rc = hearth_client_call (client, service, body, size,
                                 opts->timeout_ms, flags, reply_p);
    *elapsed_us = hearth_clock_us () - start;
    if (*reply_p)
        s_log_reply (service, *reply_p, *elapsed_us);
    return rc;
}

/*  Prints why a call failed; a route's failure names its stage first, so
    the stage survives even when a long route is cut short in the message. */
static int
s_call_error (const char *service, int error, const hearth_reply_t *reply)
{
    int64_t stage = reply ? hearth_reply_meta_uint (reply, HEARTH_META_STAGE)
                          : -1;
    if (stage < 0)
        return hearth_cli_out_call_error (service, error, reply);
    char label[HEARTH_SERVICE_MAX + 32];
    snprintf (label, sizeof label, "stage %" PRId64 " of %s", stage, service);
    return hearth_cli_out_call_error (label, error, reply);
}

static int
s_call (const hearth_cli_opts_t *opts, int argc, char **argv)
{
    static const struct option options[] = {
        { "idempotent", no_argument, NULL, S_OPT_IDEMPOTENT },
        { "meta",       no_argument, NULL, S_OPT_META },
        { "route",      required_argument, NULL, S_OPT_ROUTE },
        { "help",       no_argument, NULL, S_OPT_HELP },
        { NULL, 0, NULL, 0 }
    };
    s_flags_t flags;
    int rc = s_parse (&s_commands[0], options, argc, argv, &flags);
    if (rc)
        return rc > 0 ? HEARTH_EXIT_OK : HEARTH_EXIT_USAGE;
    /*  A route travels in the service frame (PROTOCOL.md): only where the
        name comes from differs.                                             */
    int first = flags.route ? 0 : 1;
    int args = argc - flags.positional;
    if (args < first || args > first + 1) {
        hearth_cli_out_fail ("call: %s (try 'hearth call --help')",
                             args < first ? "no SERVICE given" : "too many arguments");
        return HEARTH_EXIT_USAGE;
    }
    const char *service = flags.route ? flags.route : argv[flags.positional];
    size_t service_len = strlen (service);
    if (service_len == 0 || service_len > HEARTH_SERVICE_MAX) {
        hearth_cli_out_fail ("call: %s must be 1 to %d bytes",
                             flags.route ? "ROUTE" : "SERVICE",
                             HEARTH_SERVICE_MAX);
        return HEARTH_EXIT_USAGE;
    }
    const char *arg = args == first + 1 ? argv[flags.positional + first] : NULL;
    char *input = NULL;
    const void *body = arg ? arg : "";
    size_t size = arg ? strlen (arg) : 0;
    if ((arg && strcmp (arg, "-") == 0) || (!arg && !isatty (STDIN_FILENO))) {
        input = s_read_stdin (&size);
        if (!input)
            return HEARTH_EXIT_ERROR;
        body = input;
    }
    hearth_client_t *client = s_client (opts);
    if (!client) {
        free (input);
        return HEARTH_EXIT_USAGE;
    }
    hearth_reply_t *reply = NULL;
    int64_t elapsed_us;
    rc = s_do_call (client, opts, service, body, size,
                    flags.idempotent ? HEARTH_IDEMPOTENT : 0, &reply,
                    &elapsed_us);
    free (input);
    if (reply && flags.meta) {
        size_t meta_size;
        const void *meta = hearth_reply_meta (reply, &meta_size);
        hearth_cli_json_print (stderr, meta, meta_size, false);
    }
    int code;
    if (rc == HEARTH_OK) {
        size_t reply_size;
        const void *data = hearth_reply_body (reply, &reply_size);
        code = HEARTH_EXIT_OK;
        if (hearth_cli_out_body (stdout, data, reply_size)) {
            hearth_cli_out_fail ("stdout: %s", strerror (errno));
            code = HEARTH_EXIT_ERROR;
        }
    }
    else
        code = s_call_error (service, rc, reply);
    hearth_reply_destroy (&reply);
    hearth_client_destroy (&client);
    return code;
}

/* ------------------------------------------------------------ services */

#define S_COLUMNS 8
#define S_CELL_MAX 128

/*  A table cell: a known count, a text, or "-".                            */
static void
s_count_cell (int64_t count, char *cell)
{
    if (count == HEARTH_CLI_SERVICES_UNKNOWN)
        snprintf (cell, S_CELL_MAX, "-");
    else
        snprintf (cell, S_CELL_MAX, "%" PRId64, count);
}

static void
s_text_cell (const char *text, char *cell)
{
    if (text)
        hearth_cli_out_printable (text, strlen (text), cell, S_CELL_MAX);
    else
        snprintf (cell, S_CELL_MAX, "-");
}

static void
s_row (const hearth_cli_service_t *service, char row[S_COLUMNS][S_CELL_MAX])
{
    s_text_cell (service->name, row[0]);
    s_count_cell (service->workers, row[1]);
    s_count_cell (service->mdp_workers, row[2]);
    s_count_cell (service->credit, row[3]);
    s_count_cell (service->in_flight, row[4]);
    s_count_cell (service->queued, row[5]);
    s_text_cell (service->version, row[6]);
    s_text_cell (service->description, row[7]);
}

static void
s_print_row (char row[S_COLUMNS][S_CELL_MAX], const int *width)
{
    for (int i = 0; i < S_COLUMNS - 1; i++)
        printf ("%-*s  ", width[i], row[i]);
    printf ("%s\n", row[S_COLUMNS - 1]);
}

/*  Prints the hearth.services answer as an aligned table. Returns 0, or
    -1 if the body is not an array of maps (or out of memory).              */
static int
s_print_table (const void *data, size_t size)
{
    hearth_cli_services_t *list;
    if (hearth_cli_services_decode (data, size, &list))
        return -1;
    char (*rows)[S_COLUMNS][S_CELL_MAX] = calloc (list->count + 1,
                                                   sizeof *rows);
    if (!rows) {
        hearth_cli_services_destroy (&list);
        return -1;
    }
    static const char *titles[S_COLUMNS] = { "SERVICE", "WORKERS", "MDP",
        "CREDIT", "IN-FLIGHT", "QUEUED", "VERSION", "DESCRIPTION" };
    int width[S_COLUMNS];
    for (int i = 0; i < S_COLUMNS; i++) {
        snprintf (rows[0][i], S_CELL_MAX, "%s", titles[i]);
        width[i] = (int) strlen (titles[i]);
    }
    for (size_t r = 0; r < list->count; r++) {
        s_row (&list->services[r], rows[r + 1]);
        for (int i = 0; i < S_COLUMNS; i++) {
            int len = (int) strlen (rows[r + 1][i]);
            width[i] = len > width[i] ? len : width[i];
        }
    }
    for (size_t r = 0; r <= list->count; r++)
        s_print_row (rows[r], width);
    free (rows);
    hearth_cli_services_destroy (&list);
    return 0;
}

static int
s_services (const hearth_cli_opts_t *opts, int argc, char **argv)
{
    static const struct option options[] = {
        { "json", no_argument, NULL, S_OPT_JSON },
        { "help", no_argument, NULL, S_OPT_HELP },
        { NULL, 0, NULL, 0 }
    };
    s_flags_t flags;
    int rc = s_parse (&s_commands[1], options, argc, argv, &flags);
    if (rc)
        return rc > 0 ? HEARTH_EXIT_OK : HEARTH_EXIT_USAGE;
    if (argc - flags.positional > 1) {
        hearth_cli_out_fail ("services: too many arguments "
                             "(try 'hearth services --help')");
        return HEARTH_EXIT_USAGE;
    }
    const char *name = argc > flags.positional ? argv[flags.positional] : "";
    hearth_client_t *client = s_client (opts);
    if (!client)
        return HEARTH_EXIT_USAGE;
    hearth_reply_t *reply = NULL;
    int64_t elapsed_us;
    rc = s_do_call (client, opts, HEARTH_SVC_SERVICES, name, strlen (name), 0,
                    &reply, &elapsed_us);
    int code = HEARTH_EXIT_OK;
    if (rc != HEARTH_OK)
        code = hearth_cli_out_call_error (*name ? name : HEARTH_SVC_SERVICES,
                                          rc, reply);
    else {
        size_t size;
        const void *data = hearth_reply_body (reply, &size);
        if (flags.json ? hearth_cli_json_print (stdout, data, size, true)
                       : s_print_table (data, size)) {
            hearth_cli_out_fail ("%s: malformed answer from the broker",
                                 HEARTH_SVC_SERVICES);
            code = HEARTH_EXIT_ERROR;
        }
    }
    hearth_reply_destroy (&reply);
    hearth_client_destroy (&client);
    return code;
}

/* ---------------------------------------------------------------- ping */

static int
s_ping (const hearth_cli_opts_t *opts, int argc, char **argv)
{
    static const struct option options[] = {
        { "help", no_argument, NULL, S_OPT_HELP },
        { NULL, 0, NULL, 0 }
    };
    s_flags_t flags;
    int rc = s_parse (&s_commands[2], options, argc, argv, &flags);
    if (rc)
        return rc > 0 ? HEARTH_EXIT_OK : HEARTH_EXIT_USAGE;
    if (argc > flags.positional) {
        hearth_cli_out_fail ("ping: takes no arguments "
                             "(try 'hearth ping --help')");
        return HEARTH_EXIT_USAGE;
    }
    hearth_client_t *client = s_client (opts);
    if (!client)
        return HEARTH_EXIT_USAGE;
    /*  The echo must come back unchanged, or something else answered.    */
    static const char probe[] = "hearth-ping";
    hearth_reply_t *reply = NULL;
    int64_t elapsed_us;
    rc = s_do_call (client, opts, HEARTH_SVC_PING, probe, sizeof probe - 1, 0,
                    &reply, &elapsed_us);
    int code = HEARTH_EXIT_OK;
    size_t size = 0;
    const void *data = reply ? hearth_reply_body (reply, &size) : NULL;
    if (rc != HEARTH_OK)
        code = hearth_cli_out_call_error (HEARTH_SVC_PING, rc, reply);
    else
    if (size != sizeof probe - 1 || memcmp (data, probe, size) != 0) {
        hearth_cli_out_fail ("%s: the broker's echo differs from the probe",
                             HEARTH_SVC_PING);
        code = HEARTH_EXIT_ERROR;
    }
    else {
        char endpoint[256];
        hearth_cli_out_printable (opts->broker, strlen (opts->broker),
                                  endpoint, sizeof endpoint);
        printf ("pong from %s in %.2f ms\n", endpoint,
                (double) elapsed_us / 1000.0);
    }
    hearth_reply_destroy (&reply);
    hearth_client_destroy (&client);
    return code;
}

/* ------------------------------------------------------------ dispatch */

int
hearth_cli_cmd_run (const hearth_cli_opts_t *opts, int argc, char **argv)
{
    for (size_t i = 0; i < S_COMMANDS; i++)
        if (strcmp (argv[0], s_commands[i].name) == 0)
            return s_commands[i].run (opts, argc, argv);
    char name[64];
    hearth_cli_out_printable (argv[0], strlen (argv[0]), name, sizeof name);
    hearth_cli_out_fail ("unknown command '%s' (try 'hearth --help')", name);
    return HEARTH_EXIT_USAGE;
}
