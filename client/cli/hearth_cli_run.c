/*  hearth_cli_run - bulk runs over JSON lines (see the header).

    One loop, one client: read lines while the window has room, send each
    valid document at once, collect replies as they come, and write the
    oldest documents as soon as they and everything before them are done.
    The window (a reorder buffer of -j slots) is the only thing that grows
    with the work in flight, so memory is bounded by -j, not by the input.
*/
#include "hearth_cli_run.h"
#include "hearth_cli_lines.h"
#include "hearth_cli_out.h"
#include "hearth_cli_reorder.h"
#include "hearth_clock.h"
#include "hearth_log.h"
#include "hearth/hearth.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define S_JOBS_DEFAULT   64
#define S_JOBS_MAX       HEARTH_CREDIT_MAX
/*  A line longer than the broker's default max_message could never pass.  */
#define S_LINE_MAX       ((size_t) HEARTH_DEFAULT_MAX_MESSAGE)
/*  Failures shown on stderr when there is no --errors file.               */
#define S_SHOWN_MAX      10
#define S_TICK_MS        100     /* progress refresh and poll period        */
#define S_ERROR_TEXT_MAX 1024
/*  Exit code of a run stopped by SIGINT or SIGTERM (the shell's 128 + 2).  */
#define S_EXIT_INTERRUPTED 130

/*  Set by the first SIGINT/SIGTERM: stop reading, finish what is in flight.
    A second signal ends the process at once.                                */
static volatile sig_atomic_t s_interrupted;

const char hearth_cli_run_usage[] =
    "Usage: hearth [OPTIONS] run [-j N] [--errors FILE] [--timeout MS]\n"
    "                            [--idempotent] ROUTE < IN.jsonl > OUT.jsonl\n"
    "\n"
    "Sends every line of stdin (one JSON document each) to ROUTE (a service,\n"
    "a route such as 'a,[b,c],d', or a pipeline name) with up to N in flight,\n"
    "and writes each reply on stdout as one line, in input order. Blank lines\n"
    "are skipped; lines that are not JSON fail with 400 without being sent.\n"
    "\n"
    "  -j, --jobs N      documents in flight at once (1..10000, default 64);\n"
    "                    also the bound of the reorder buffer\n"
    "  --errors FILE     write each failed document to FILE as a JSON line\n"
    "                    {\"line\", \"status\", \"error\", [\"stage\",] \"document\"};\n"
    "                    without it, the first 10 failures go to stderr\n"
    "  --timeout MS      deadline of each document (default: the global one)\n"
    "  --idempotent      the broker may resend a document once if its worker\n"
    "                    dies\n"
    "  -h, --help        show this help\n"
    "\n"
    "A progress line (done/total, docs/s, ETA, errors) is shown on stderr when\n"
    "it is a terminal; a summary line is always printed at the end.\n"
    "\n"
    "On SIGINT or SIGTERM it stops reading, finishes and writes the documents\n"
    "in flight, prints the summary and exits 130; a second signal exits at once.\n"
    "\n"
    "Exit status: 0 when every document succeeded; else the exit code of the\n"
    "most common failure (ties: the lowest code), as in 'hearth --help'; 1 on\n"
    "an I/O error (stdin, stdout, the errors file); 130 when interrupted.\n";

/*  One input line that holds a document, from reading to writing.          */
typedef struct {
    uint64_t line;              /* 1-based input line number                */
    uint64_t seq;               /* its place in the window                  */
    char *input;                /* the line, without newline (owned)        */
    size_t input_len;
    bool too_long;              /* input not kept: over S_LINE_MAX          */
    bool awaiting;              /* sent, reply not yet in                   */
    uint64_t id;                /* request id, once sent                    */
    hearth_reply_t *reply;      /* the answer, once in (owned)              */
    char *output;               /* reply re-encoded on one line, or NULL    */
    int status;                 /* 200, or the failure's status             */
    int exit_code;              /* class of the failure, 0 on success       */
    char *error;                /* local failure text (owned), or NULL      */
} s_doc_t;

typedef struct {
    const char *route;
    const char *errors_path;
    int jobs;
    int timeout_ms;
    int flags;
} s_config_t;

typedef struct {
    s_config_t config;
    const char *broker;
    hearth_client_t *client;
    hearth_cli_reorder_t *window;
    s_doc_t **awaiting;         /* ring by request id: docs awaiting replies */
    hearth_cli_lines_t *lines;
    FILE *errors;               /* --errors FILE, or NULL                   */
    bool unreachable;           /* the broker could not be reached: fail all */
    bool io_failed;             /* stdin, stdout or the errors file failed  */
    uint64_t line_no;           /* lines read                               */
    uint64_t reserved;          /* docs given a window slot                 */
    uint64_t popped;            /* docs written (first open seq)            */
    int64_t total;              /* lines in the input, or -1 if unknown     */
    uint64_t skipped, succeeded, failed;
    uint64_t per_exit[HEARTH_EXIT_REFUSED + 1];
    bool tty;
    int64_t start_ms;
    int64_t progress_ms;        /* when the progress line was last drawn    */
} s_run_t;

/* -------------------------------------------------------------- docs */

static void
s_doc_free (void *item)
{
    s_doc_t *doc = item;
    if (!doc)
        return;
    hearth_reply_destroy (&doc->reply);
    free (doc->input);
    free (doc->output);
    free (doc->error);
    free (doc);
}

/*  Marks doc failed with a status, exit class and text made here.          */
static void
s_doc_fail (s_doc_t *doc, int status, int exit_code, const char *text)
{
    doc->status = status;
    doc->exit_code = exit_code;
    free (doc->error);
    doc->error = strdup (text);
}

/*  Checks a 200 reply's body: it must be one JSON text, written on one line
    (re-encoded if the worker spread it over several). Fails doc if not.    */
static void
s_doc_check_output (s_doc_t *doc)
{
    size_t size;
    const char *body = hearth_reply_body (doc->reply, &size);
    while (size && (body[size - 1] == '\n' || body[size - 1] == '\r'))
        size--;
    json_error_t error;
    json_t *json = json_loadb (body, size, JSON_DECODE_ANY, &error);
    if (!json) {
        char text[300];
        snprintf (text, sizeof text, "the reply is not JSON: %s", error.text);
        s_doc_fail (doc, HEARTH_STATUS_WORKER_ERROR, HEARTH_EXIT_WORKER, text);
        return;
    }
    if (memchr (body, '\n', size) || memchr (body, '\r', size)) {
        doc->output = json_dumps (json, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!doc->output)
            s_doc_fail (doc, HEARTH_STATUS_WORKER_ERROR, HEARTH_EXIT_ERROR,
                        "out of memory re-encoding the reply");
    }
    json_decref (json);
}

/*  Records the reply to an awaited doc and completes it in the window.     */
static void
s_doc_answer (s_run_t *self, s_doc_t *doc, hearth_reply_t *reply)
{
    doc->awaiting = false;
    doc->reply = reply;
    doc->status = hearth_reply_status (reply);
    if (doc->status == HEARTH_STATUS_OK)
        s_doc_check_output (doc);
    else
        doc->exit_code = hearth_cli_out_exit_code (
            hearth_error_from_status (doc->status));
    if (hearth_cli_reorder_complete (self->window, doc->seq))
        hearth_log_warn ("run: line %" PRIu64 " answered twice: dropped",
                         doc->line);
}

/* ----------------------------------------------------------- awaiting */

static size_t
s_ring_index (const s_run_t *self, uint64_t id)
{
    return (size_t) (id % (uint64_t) self->config.jobs);
}

/*  Notes doc as awaiting the reply to its id. The ring is a fast path:
    ids are handed out in order, so the ones in flight rarely share a slot;
    when they do, the lookup falls back to a scan of the window.            */
static void
s_await (s_run_t *self, s_doc_t *doc)
{
    doc->awaiting = true;
    s_doc_t **slot = &self->awaiting[s_ring_index (self, doc->id)];
    if (!*slot)
        *slot = doc;
}

/*  The doc awaiting the reply to id, no longer noted as awaiting, or NULL. */
static s_doc_t *
s_take_awaiting (s_run_t *self, uint64_t id)
{
    s_doc_t **slot = &self->awaiting[s_ring_index (self, id)];
    s_doc_t *doc = *slot;
    if (doc && doc->id == id) {
        *slot = NULL;
        return doc;
    }
    for (uint64_t seq = self->popped; seq < self->reserved; seq++) {
        doc = hearth_cli_reorder_get (self->window, seq);
        if (doc && doc->awaiting && doc->id == id)
            return doc;
    }
    return NULL;
}

/* ------------------------------------------------------------ sending */

static bool
s_blank (const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            return false;
    return true;
}

/*  Sends doc, or fails it here when it cannot be sent: not JSON, or no
    broker. Either way the doc ends up awaiting or complete.                 */
static void
s_doc_send (s_run_t *self, s_doc_t *doc)
{
    char text[S_ERROR_TEXT_MAX];
    json_error_t error;
    json_t *json = doc->too_long ? NULL
                 : json_loadb (doc->input, doc->input_len, JSON_DECODE_ANY,
                               &error);
    int rc = HEARTH_OK;
    if (doc->too_long) {
        snprintf (text, sizeof text, "line longer than %zu bytes", S_LINE_MAX);
        s_doc_fail (doc, HEARTH_STATUS_TOO_LARGE, HEARTH_EXIT_REFUSED, text);
    }
    else
    if (!json) {
        snprintf (text, sizeof text, "invalid JSON at column %d: %s",
                  error.column, error.text);
        s_doc_fail (doc, HEARTH_STATUS_BAD_REQUEST, HEARTH_EXIT_REFUSED, text);
    }
    else
    if (self->unreachable) {
        snprintf (text, sizeof text, "not sent: %s",
                  hearth_strerror (HEARTH_EUNREACHABLE));
        s_doc_fail (doc, HEARTH_STATUS_UNAVAILABLE, HEARTH_EXIT_UNREACHABLE,
                    text);
    }
    else
    if ((rc = hearth_client_send (self->client, self->config.route,
                                  doc->input, doc->input_len,
                                  self->config.timeout_ms, self->config.flags,
                                  &doc->id)) != HEARTH_OK)
        s_doc_fail (doc, HEARTH_STATUS_UNAVAILABLE,
                    hearth_cli_out_exit_code (rc), hearth_strerror (rc));
    else
        s_await (self, doc);
    json_decref (json);
    if (!doc->awaiting)
        hearth_cli_reorder_complete (self->window, doc->seq);
}

/*  Takes one line: skips it if blank, else gives it a window slot and
    sends it. The window must have room.                                    */
static void
s_take_line (s_run_t *self, const char *line, size_t len, bool too_long)
{
    self->line_no++;
    if (!too_long && s_blank (line, len)) {
        self->skipped++;
        return;
    }
    s_doc_t *doc = calloc (1, sizeof *doc);
    char *input = too_long ? NULL : malloc (len ? len : 1);
    if (!doc || (!too_long && !input)) {
        /*  Out of memory with the line in hand: it can only be reported.  */
        hearth_cli_out_fail ("run: line %" PRIu64 ": out of memory",
                             self->line_no);
        free (doc);
        free (input);
        self->io_failed = true;
        return;
    }
    if (input)
        memcpy (input, line, len);
    doc->line = self->line_no;
    doc->input = input;
    doc->input_len = len;
    doc->too_long = too_long;
    doc->status = HEARTH_STATUS_OK;
    int rc = hearth_cli_reorder_reserve (self->window, doc, &doc->seq);
    assert (rc == 0);           /* the caller checked there was room        */
    (void) rc;
    self->reserved++;
    s_doc_send (self, doc);
}

/*  Reads and sends lines while the window has room and lines are buffered. */
static void
s_feed (s_run_t *self)
{
    const char *line;
    size_t len;
    bool too_long;
    while (!hearth_cli_reorder_full (self->window) && !self->io_failed
    &&     hearth_cli_lines_next (self->lines, &line, &len, &too_long))
        s_take_line (self, line, len, too_long);
}

/* ---------------------------------------------------------- receiving */

/*  The broker has been unreachable for the connect timeout: every awaited
    document fails now, and later ones are not sent (s_doc_send).            */
static void
s_fail_awaiting (s_run_t *self)
{
    self->unreachable = true;
    char text[S_ERROR_TEXT_MAX];
    snprintf (text, sizeof text, "%s",
              hearth_strerror (HEARTH_EUNREACHABLE));
    for (uint64_t seq = self->popped; seq < self->reserved; seq++) {
        s_doc_t *doc = hearth_cli_reorder_get (self->window, seq);
        if (!doc || !doc->awaiting)
            continue;
        s_doc_t **slot = &self->awaiting[s_ring_index (self, doc->id)];
        if (*slot == doc)
            *slot = NULL;
        doc->awaiting = false;
        s_doc_fail (doc, HEARTH_STATUS_UNAVAILABLE, HEARTH_EXIT_UNREACHABLE,
                    text);
        hearth_cli_reorder_complete (self->window, doc->seq);
    }
}

/*  Collects replies: waits up to wait_ms for the first, then takes every
    one already there.                                                       */
static void
s_collect (s_run_t *self, int wait_ms)
{
    while (!self->unreachable && hearth_client_pending (self->client)) {
        hearth_reply_t *reply = NULL;
        int rc = hearth_client_recv (self->client, wait_ms, &reply);
        if (rc == HEARTH_EUNREACHABLE) {
            s_fail_awaiting (self);
            return;
        }
        if (rc != HEARTH_OK)
            return;                 /* nothing more within wait_ms          */
        wait_ms = 0;
        s_doc_t *doc = s_take_awaiting (self, hearth_reply_id (reply));
        if (doc)
            s_doc_answer (self, doc, reply);
        else {
            /*  The library answers each request once; this cannot be ours. */
            hearth_log_warn ("run: reply to unknown request %" PRIu64
                             ": dropped", hearth_reply_id (reply));
            hearth_reply_destroy (&reply);
        }
    }
}

/*  Waits for whatever comes first: input (when there is room for it), a
    reply, or the next progress tick.                                        */
static void
s_wait (s_run_t *self, bool want_input)
{
    if (!want_input) {
        s_collect (self, S_TICK_MS);
        return;
    }
    zmq_pollitem_t items[] = {
        { NULL, STDIN_FILENO, ZMQ_POLLIN, 0 },
        { hearth_client_socket (self->client), 0, ZMQ_POLLIN, 0 },
    };
    int count = hearth_client_pending (self->client) && !self->unreachable
              ? 2 : 1;
    if (zmq_poll (items, count, S_TICK_MS) < 0 && errno != EINTR) {
        hearth_cli_out_fail ("run: poll: %s", zmq_strerror (errno));
        self->io_failed = true;
        return;
    }
    if (items[0].revents && hearth_cli_lines_fill (self->lines)) {
        hearth_cli_out_fail ("run: stdin: %s", strerror (errno));
        self->io_failed = true;
    }
    s_collect (self, 0);
}

/* ------------------------------------------------------------ writing */

/*  Builds the error line of a failed doc: {"line", "status", "error",
    ["stage",] "document"}. Returns a new reference, or NULL.               */
static json_t *
s_error_entry (const s_doc_t *doc)
{
    const char *text = doc->error;
    if (!text && doc->reply)
        text = hearth_reply_error (doc->reply);
    if (!text)
        text = hearth_status_text (doc->status);
    /*  The text may come from a worker: keep it printable, valid UTF-8.  */
    char printable[S_ERROR_TEXT_MAX];
    hearth_cli_out_printable (text, strlen (text), printable, sizeof printable);
    json_t *document = NULL;
    if (!doc->too_long) {
        document = json_loadb (doc->input, doc->input_len, JSON_DECODE_ANY,
                               NULL);
        if (!document)
            document = json_stringn (doc->input, doc->input_len);
        if (!document) {
            /*  Not UTF-8: the JSON string can only hold a printable copy. */
            char *copy = malloc (doc->input_len + 1);
            if (copy) {
                hearth_cli_out_printable (doc->input, doc->input_len, copy,
                                          doc->input_len + 1);
                document = json_string (copy);
                free (copy);
            }
        }
    }
    json_t *entry = json_object ();
    if (!entry) {
        json_decref (document);
        return NULL;
    }
    json_object_set_new (entry, "line", json_integer ((json_int_t) doc->line));
    json_object_set_new (entry, "status", json_integer (doc->status));
    json_object_set_new (entry, "error", json_string (printable));
    int64_t stage = doc->reply ? hearth_reply_meta_uint (doc->reply,
                                                         HEARTH_META_STAGE)
                               : -1;
    if (stage >= 0)
        json_object_set_new (entry, "stage", json_integer (stage));
    json_object_set_new (entry, "document", document ? document : json_null ());
    return entry;
}

/*  Reports a failed doc: to the errors file, else (the first few) to
    stderr.                                                                  */
static void
s_write_failure (s_run_t *self, const s_doc_t *doc)
{
    self->failed++;
    self->per_exit[doc->exit_code]++;
    if (!self->errors) {
        if (self->failed > S_SHOWN_MAX)
            return;
        json_t *entry = s_error_entry (doc);
        const char *text = entry ? json_string_value (
            json_object_get (entry, "error")) : NULL;
        if (self->tty)
            fputs ("\r\033[K", stderr);
        hearth_cli_out_fail ("run: line %" PRIu64 ": %d %s: %s", doc->line,
                             doc->status, hearth_status_text (doc->status),
                             text ? text : "out of memory");
        json_decref (entry);
        return;
    }
    json_t *entry = s_error_entry (doc);
    if (!entry
    ||  json_dumpf (entry, self->errors, JSON_COMPACT | JSON_ENCODE_ANY)
    ||  fputc ('\n', self->errors) == EOF) {
        hearth_cli_out_fail ("run: %s: %s", self->config.errors_path,
                             entry ? strerror (errno) : "out of memory");
        self->io_failed = true;
    }
    json_decref (entry);
}

static void
s_write_success (s_run_t *self, const s_doc_t *doc)
{
    size_t size;
    const char *body = doc->output;
    if (body)
        size = strlen (body);
    else
        body = hearth_reply_body (doc->reply, &size);
    while (size && (body[size - 1] == '\n' || body[size - 1] == '\r'))
        size--;
    if (fwrite (body, 1, size, stdout) != size || fputc ('\n', stdout) == EOF) {
        hearth_cli_out_fail ("run: stdout: %s", strerror (errno));
        self->io_failed = true;
        return;
    }
    self->succeeded++;
}

/*  Writes every doc at the head of the window that is complete.            */
static void
s_flush (s_run_t *self)
{
    s_doc_t *doc;
    bool wrote = false;
    while (!self->io_failed && (doc = hearth_cli_reorder_pop (self->window))) {
        self->popped++;
        if (doc->status == HEARTH_STATUS_OK && doc->exit_code == 0)
            s_write_success (self, doc);
        else
            s_write_failure (self, doc);
        s_doc_free (doc);
        wrote = true;
    }
    /*  Flushed per batch, so a slow input still sees its output promptly. */
    if (wrote && (fflush (stdout) || (self->errors && fflush (self->errors)))
    &&  !self->io_failed) {
        hearth_cli_out_fail ("run: write: %s", strerror (errno));
        self->io_failed = true;
    }
}

/* ----------------------------------------------------------- progress */

static void
s_progress (s_run_t *self, bool force)
{
    int64_t now = hearth_clock_ms ();
    if (!self->tty || (!force && now - self->progress_ms < S_TICK_MS))
        return;
    self->progress_ms = now;
    uint64_t done = self->succeeded + self->failed + self->skipped;
    double seconds = (double) (now - self->start_ms) / 1000.0;
    double rate = seconds > 0 ? (double) done / seconds : 0;
    char total[64] = "", eta[64] = "";
    if (self->total >= 0) {
        snprintf (total, sizeof total, "/%" PRId64, self->total);
        if (rate > 0 && (uint64_t) self->total >= done) {
            int64_t left = (int64_t) ((double) ((uint64_t) self->total - done)
                                      / rate);
            snprintf (eta, sizeof eta, "  ETA %" PRId64 ":%02" PRId64,
                      left / 60, left % 60);
        }
    }
    fprintf (stderr, "\r\033[Khearth run: %" PRIu64 "%s docs  %.0f docs/s%s  "
             "errors %" PRIu64, done, total, rate, eta, self->failed);
    fflush (stderr);
}

static void
s_on_signal (int signum)
{
    (void) signum;
    if (s_interrupted)
        _exit (S_EXIT_INTERRUPTED);
    s_interrupted = 1;
}

static void
s_catch_signals (void)
{
    struct sigaction action = { .sa_handler = s_on_signal };
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
}

static void
s_summary (s_run_t *self)
{
    double seconds = (double) (hearth_clock_ms () - self->start_ms) / 1000.0;
    uint64_t docs = self->succeeded + self->failed;
    if (self->tty)
        fputs ("\r\033[K", stderr);
    fprintf (stderr, "hearth run: %" PRIu64 " docs, %" PRIu64 " errors, %"
             PRIu64 " blank lines skipped, %.2f s, %.1f docs/s\n", docs,
             self->failed, self->skipped, seconds,
             seconds > 0 ? (double) docs / seconds : 0.0);
    if (s_interrupted)
        hearth_cli_out_fail ("run: interrupted: stopped after input line %"
                             PRIu64 ", later lines were not read",
                             self->line_no);
    if (!self->errors && self->failed > S_SHOWN_MAX)
        hearth_cli_out_fail ("run: %" PRIu64 " more failures not shown "
                             "(use --errors FILE)",
                             self->failed - S_SHOWN_MAX);
}

/*  0, or the exit code of the most common failure class.                   */
static int
s_exit_code (const s_run_t *self)
{
    if (self->io_failed)
        return HEARTH_EXIT_ERROR;
    if (s_interrupted)
        return S_EXIT_INTERRUPTED;
    int code = HEARTH_EXIT_OK;
    uint64_t most = 0;
    for (int i = 1; i <= HEARTH_EXIT_REFUSED; i++)
        if (self->per_exit[i] > most) {
            most = self->per_exit[i];
            code = i;
        }
    return code;
}

/* ---------------------------------------------------------- the run */

/*  Parses run's options into config. Returns -1 on a usage error (printed),
    1 if help was printed, else 0.                                           */
static int
s_parse (const hearth_cli_opts_t *opts, int argc, char **argv,
         s_config_t *config)
{
    enum { OPT_ERRORS = 1000, OPT_TIMEOUT, OPT_IDEMPOTENT };
    static const struct option options[] = {
        { "jobs",       required_argument, NULL, 'j' },
        { "errors",     required_argument, NULL, OPT_ERRORS },
        { "timeout",    required_argument, NULL, OPT_TIMEOUT },
        { "idempotent", no_argument,       NULL, OPT_IDEMPOTENT },
        { "help",       no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    *config = (s_config_t) { .jobs = S_JOBS_DEFAULT,
                             .timeout_ms = opts->timeout_ms };
    opterr = 0;
    optind = 0;
    int c;
    while ((c = getopt_long (argc, argv, ":j:h", options, NULL)) != -1) {
        switch (c) {
            case 'j':
                if (hearth_cli_args_int (optarg, 1, S_JOBS_MAX, &config->jobs)) {
                    hearth_cli_out_fail ("run: -j: not a number from 1 to %d: "
                                         "'%s'", S_JOBS_MAX, optarg);
                    return -1;
                }
                break;
            case OPT_ERRORS:
                config->errors_path = optarg;
                break;
            case OPT_TIMEOUT:
                if (hearth_cli_args_int (optarg, 1, INT_MAX,
                                         &config->timeout_ms)) {
                    hearth_cli_out_fail ("run: --timeout: not a positive "
                                         "number of milliseconds: '%s'",
                                         optarg);
                    return -1;
                }
                break;
            case OPT_IDEMPOTENT:
                config->flags |= HEARTH_IDEMPOTENT;
                break;
            case 'h':
                fputs (hearth_cli_run_usage, stdout);
                return 1;
            case ':':
                hearth_cli_out_fail ("run: option '%s' needs a value",
                                     argv[optind - 1]);
                return -1;
            default:
                hearth_cli_args_unknown ("hearth run", argv);
                return -1;
        }
    }
    if (argc - optind != 1) {
        hearth_cli_out_fail ("run: %s (try 'hearth run --help')",
                             argc == optind ? "no ROUTE given"
                                            : "too many arguments");
        return -1;
    }
    config->route = argv[optind];
    size_t len = strlen (config->route);
    if (len == 0 || len > HEARTH_SERVICE_MAX) {
        hearth_cli_out_fail ("run: ROUTE must be 1 to %d bytes",
                             HEARTH_SERVICE_MAX);
        return -1;
    }
    return 0;
}

/*  Sets up everything the loop needs. Returns 0, or the exit code.         */
static int
s_open (s_run_t *self, const hearth_cli_opts_t *opts)
{
    self->broker = opts->broker;
    self->client = hearth_client_new (opts->broker);
    if (!self->client) {
        char endpoint[256];
        hearth_cli_out_printable (opts->broker, strlen (opts->broker),
                                  endpoint, sizeof endpoint);
        hearth_cli_out_fail ("invalid broker endpoint '%s'", endpoint);
        return HEARTH_EXIT_USAGE;
    }
    hearth_client_set_name (self->client, "hearth", HEARTH_VERSION_STRING);
    self->window = hearth_cli_reorder_new ((size_t) self->config.jobs,
                                           s_doc_free);
    self->awaiting = calloc ((size_t) self->config.jobs,
                             sizeof *self->awaiting);
    self->lines = hearth_cli_lines_new (STDIN_FILENO, S_LINE_MAX);
    if (!self->window || !self->awaiting || !self->lines) {
        hearth_cli_out_fail ("run: out of memory");
        return HEARTH_EXIT_ERROR;
    }
    if (self->config.errors_path) {
        self->errors = fopen (self->config.errors_path, "w");
        if (!self->errors) {
            hearth_cli_out_fail ("run: %s: %s", self->config.errors_path,
                                 strerror (errno));
            return HEARTH_EXIT_ERROR;
        }
    }
    self->tty = isatty (STDERR_FILENO);
    self->total = self->tty ? hearth_cli_lines_count (STDIN_FILENO) : -1;
    self->start_ms = hearth_clock_ms ();
    return 0;
}

static void
s_close (s_run_t *self)
{
    if (self->errors && fclose (self->errors) && !self->io_failed) {
        hearth_cli_out_fail ("run: %s: %s", self->config.errors_path,
                             strerror (errno));
        self->io_failed = true;
    }
    self->errors = NULL;
    hearth_cli_reorder_destroy (&self->window);
    free (self->awaiting);
    hearth_cli_lines_destroy (&self->lines);
    hearth_client_destroy (&self->client);
}

static void
s_loop (s_run_t *self)
{
    while (!self->io_failed) {
        if (!s_interrupted)
            s_feed (self);
        s_flush (self);
        bool input_left = !s_interrupted
                       && !hearth_cli_lines_done (self->lines);
        if (!input_left && hearth_cli_reorder_open (self->window) == 0)
            break;
        s_wait (self, input_left && !hearth_cli_reorder_full (self->window));
        s_progress (self, false);
    }
}

int
hearth_cli_run (const hearth_cli_opts_t *opts, int argc, char **argv)
{
    s_run_t self = { 0 };
    int rc = s_parse (opts, argc, argv, &self.config);
    if (rc)
        return rc > 0 ? HEARTH_EXIT_OK : HEARTH_EXIT_USAGE;
    int code = s_open (&self, opts);
    if (code == 0) {
        hearth_log_debug ("run: %s at %s, %d in flight, timeout %d ms",
                          self.config.route, self.broker, self.config.jobs,
                          self.config.timeout_ms);
        s_catch_signals ();
        s_loop (&self);
        s_progress (&self, true);
        s_summary (&self);
    }
    s_close (&self);
    return code ? code : s_exit_code (&self);
}
