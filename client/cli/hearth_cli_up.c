/*  hearth_cli_up - `hearth up`: a whole mesh from one mesh.yml.

    Which children a mesh has is hearth_cli_plan's (a pure function);
    here they are found, started, supervised and stopped. Programs are
    found next to our own executable, in the build tree's layout, then on
    PATH, so one rule serves a build tree and an installation alike.
*/
#include "hearth_cli_up.h"
#include "hearth_cli_out.h"
#include "hearth_cli_plan.h"
#include "hearth_cli_services.h"
#include "hearth_supervisor.h"
#include "hearth_config.h"
#include "hearth_clock.h"
#include "hearth_log.h"
#include "hearth_meta.h"
#include "hearth_settings.h"
#include "hearth/hearth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#ifndef HEARTH_SOURCE_DIR
#   define HEARTH_SOURCE_DIR ""
#endif
#ifndef HEARTH_DATA_DIR
#   define HEARTH_DATA_DIR ""
#endif
#ifndef HEARTH_DATA_REL             /* DATADIR relative to BINDIR ("../share")*/
#   define HEARTH_DATA_REL ""
#endif

/*  The mesh `hearth up` runs without -c: the example experts. Relative
    paths resolve in the examples directory (see s_examples_dir); a service
    whose files are not there is left out, with its pipelines.              */
static const char s_default_mesh[] =
    "# The default mesh of `hearth up`: the example experts.\n"
    "broker:\n"
    "  bind: [" HEARTH_DEFAULT_ENDPOINT "]\n"
    "services:\n"
    "  sentiment:\n"
    "    worker: [hearth-expert-sentiment, --service, sentiment]\n"
    "  wordcount:\n"
    "    command: [/usr/bin/python3, wordcount.py]\n"
    "    processes: 2\n"
    "    idempotent: true\n"
    "    description: words and characters of doc.text (a stdin/stdout script)\n"
    "  slowstart:\n"
    "    command: [/usr/bin/python3, slowstart.py, --load-seconds, \"3\"]\n"
    "    ready_line: READY\n"
    "    description: wordcount after a 3 s model load\n"
    "  keywords:\n"
    "    module: py_expert:keywords\n"
    "    concurrency: 2\n"
    "pipelines:\n"
    "  opinions: wordcount,[sentiment,keywords]\n";

const char hearth_cli_up_usage[] =
    "Usage: hearth up [-c MESH.yml] [--bind ENDPOINT] [--check] [--print-default]\n"
    "\n"
    "Starts the broker and every service's workers of MESH.yml as one\n"
    "supervised tree, waits until every service has its workers, prints a\n"
    "status table and 'ready' on stderr, restarts whatever dies (with\n"
    "backoff; crash loops are reported), and on Ctrl-C or SIGTERM stops the\n"
    "broker (which refuses new calls and finishes those it accepted), then\n"
    "the workers, and exits 0.\n"
    "Without -c it runs the embedded default mesh of the example experts\n"
    "(sentiment, wordcount, slowstart, keywords, pipeline 'opinions').\n"
    "\n";

static const char s_usage_tail[] =
    "  -h, --help           show this help\n"
    "\n"
    "Programs (hearth-broker, hearth-worker, and commands named without a\n"
    "'/') are looked up next to this executable, in the build tree, then on\n"
    "PATH; $HEARTH_BROKER_BIN and $HEARTH_WORKER_BIN override. Module\n"
    "services run $HEARTH_PYTHON (default /usr/bin/python3) -m hearth serve,\n"
    "with PYTHONPATH holding their directory and the hearth package\n"
    "($HEARTH_PYTHONPATH, else the installed DATADIR/hearth/python, else\n"
    "client/python of the source tree). The default mesh's files come from\n"
    "$HEARTH_EXAMPLES_DIR, else the installed DATADIR/hearth/examples, else\n"
    "workers/examples of the source tree (--check shows which).\n"
    "\n"
    "Exit status: 0 after a clean stop, 1 if the mesh cannot start, 2 on a\n"
    "usage error.\n";

/*  up's own options; the mesh itself is read from the file.               */
typedef struct {
    const char *config;             /* -c FILE, or NULL: the default mesh   */
    const char *bind;               /* replaces the first broker bind       */
    bool check;
    bool print_default;
} s_options_t;

#define S_OPTION(field) offsetof (s_options_t, field)

static const hearth_setting_t s_settings[] = {
    { .key = "config", .letter = 'c', .type = HEARTH_SETTING_STRING,
      .offset = S_OPTION (config), .metavar = "FILE",
      .help = "the mesh to run (schemas/CONFIG.md)" },
    { .key = "bind", .type = HEARTH_SETTING_STRING, .offset = S_OPTION (bind),
      .metavar = "ENDPOINT",
      .help = "instead of the mesh's first broker bind (a port of * picks a "
              "free one, shown in the status table)" },
    { .key = "check", .type = HEARTH_SETTING_BOOL, .offset = S_OPTION (check),
      .help = "load and check the mesh, print a summary, exit" },
    { .key = "print_default", .type = HEARTH_SETTING_BOOL,
      .offset = S_OPTION (print_default),
      .help = "print the embedded default mesh and exit" },
    HEARTH_SETTING_END
};

static void
s_usage (FILE *out)
{
    fputs (hearth_cli_up_usage, out);
    hearth_settings_usage (s_settings, 23, out);
    fputs (s_usage_tail, out);
}

#define S_POLL_MS       100     /* supervision tick                         */
#define S_READY_POLL_MS 250     /* between readiness checks                 */
#define S_CALL_MS       1000    /* one hearth.services / hearth.ping call   */
#define S_BROKER_START_MS 10000 /* for the broker to answer hearth.ping     */
#define S_WORKER_STOP_MS 10000  /* workers, after the broker: to say goodbye */
#define S_WAIT_NOTE_MS  10000   /* between "still waiting for" notes        */

static volatile sig_atomic_t s_stopping;

static void
s_on_signal (int signum)
{
    (void) signum;
    s_stopping = 1;
}

/* ---------------------------------------------------------------- state */

typedef struct {
    hearth_config_t *config;
    bool embedded;                  /* the default mesh: drop what is
                                       missing instead of failing            */
    char base_dir[PATH_MAX];        /* relative directories resolve here    */
    char exe_dir[PATH_MAX];
    char python_path[PATH_MAX];     /* the hearth package's parent, or ""   */
    char bind0[320];                /* first bind, wildcard port resolved    */
    char endpoint[320];             /* where we and the workers connect     */
    bool *enabled;                  /* per service                          */
    int *expected;                  /* workers each service must have       */
    hearth_supervisor_t *supervisor;
    hearth_client_t *client;
} s_up_t;

static bool
s_is_file (const char *path)
{
    struct stat info;
    return stat (path, &info) == 0 && S_ISREG (info.st_mode);
}

static bool
s_is_dir (const char *path)
{
    struct stat info;
    return stat (path, &info) == 0 && S_ISDIR (info.st_mode);
}

/*  Finds a program: a name with '/' relative to directory; else among
    Hearth's binaries (next to us, then the build tree), then on PATH.      */
static int
s_find_program (const s_up_t *self, const char *name, const char *directory,
                char *out, size_t size)
{
    if (strchr (name, '/')) {
        if (hearth_cli_plan_join (directory, name, out, size) == 0 && access (out, X_OK) == 0)
            return 0;
        return -1;
    }
    const char *override = NULL;
    if (strcmp (name, "hearth-broker") == 0)
        override = getenv ("HEARTH_BROKER_BIN");
    if (strcmp (name, "hearth-worker") == 0)
        override = getenv ("HEARTH_WORKER_BIN");
    if (override && *override && access (override, X_OK) == 0)
        return snprintf (out, size, "%s", override) < (int) size ? 0 : -1;
    /*  In a build tree `hearth` is client/cli/hearth and the others sit
        in broker/, workers/host/ and workers/examples/ two levels up.     */
    static const char *layouts[] = { ".", "../../broker", "../../workers/host",
                                     "../../workers/examples" };
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (snprintf (out, size, "%s/%s/%s", self->exe_dir, layouts[i], name)
                < (int) size
        &&  s_is_file (out) && access (out, X_OK) == 0)
            return 0;
    const char *path = getenv ("PATH");
    char *copy = strdup (path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *saveptr = NULL;
    int rc = -1;
    for (char *dir = copy ? strtok_r (copy, ":", &saveptr) : NULL;
         dir && rc; dir = strtok_r (NULL, ":", &saveptr))
        if (snprintf (out, size, "%s/%s", *dir ? dir : ".", name) < (int) size
        &&  s_is_file (out) && access (out, X_OK) == 0)
            rc = 0;
    free (copy);
    return rc;
}

/*  The first candidate directory (NULL or "" skipped) that holds marker,
    a file below it, or that exists at all when marker is NULL. Copies it
    to out, resolved with realpath so logs name it plainly. 0, or -1.      */
static int
s_first_dir (const char *const *candidates, size_t count, const char *marker,
             char *out, size_t size)
{
    for (size_t i = 0; i < count; i++) {
        char probe[PATH_MAX];
        if (!candidates[i] || !*candidates[i]
        ||  snprintf (probe, sizeof probe, "%s/%s", candidates[i],
                      marker ? marker : "") >= (int) sizeof probe
        ||  !(marker ? s_is_file (probe) : s_is_dir (probe)))
            continue;
        char real[PATH_MAX];
        const char *found = realpath (candidates[i], real) ? real
                                                           : candidates[i];
        return snprintf (out, size, "%s", found) < (int) size ? 0 : -1;
    }
    return -1;
}

/*  DATADIR/hearth/name of the installation we belong to, found from our
    own executable (bin/../share), so an installation under any prefix
    (`cmake --install --prefix`, a moved tree) finds its own data before
    the configured DATADIR. "" when we were built without that knowledge.   */
static void
s_installed_dir (const s_up_t *self, const char *name, char *out,
                 size_t size)
{
    out[0] = 0;
    if (*HEARTH_DATA_REL
    &&  snprintf (out, size, "%s/%s/hearth/%s", self->exe_dir, HEARTH_DATA_REL,
                  name) >= (int) size)
        out[0] = 0;
}

/*  The examples directory the default mesh runs in: $HEARTH_EXAMPLES_DIR,
    else the installed copy next to us, else the source tree's
    workers/examples (a build tree), else the configured DATADIR's.
    An installation comes before the source tree, which may be newer or
    older than what was installed.                                           */
static int
s_examples_dir (const s_up_t *self, char *out, size_t size)
{
    char installed[PATH_MAX];
    s_installed_dir (self, "examples", installed, sizeof installed);
    const char *candidates[] = { getenv ("HEARTH_EXAMPLES_DIR"), installed,
                                 *HEARTH_SOURCE_DIR
                                 ? HEARTH_SOURCE_DIR "/workers/examples" : "",
                                 *HEARTH_DATA_DIR
                                 ? HEARTH_DATA_DIR "/hearth/examples" : "" };
    return s_first_dir (candidates, sizeof candidates / sizeof candidates[0],
                        NULL, out, size);
}

/*  The directory holding the hearth Python package, in the same order as
    the examples; "" if none.                                               */
static void
s_python_path (s_up_t *self)
{
    char installed[PATH_MAX];
    s_installed_dir (self, "python", installed, sizeof installed);
    const char *candidates[] = { getenv ("HEARTH_PYTHONPATH"), installed,
                                 *HEARTH_SOURCE_DIR
                                 ? HEARTH_SOURCE_DIR "/client/python" : "",
                                 *HEARTH_DATA_DIR
                                 ? HEARTH_DATA_DIR "/hearth/python" : "" };
    if (s_first_dir (candidates, sizeof candidates / sizeof candidates[0],
                     "hearth/__init__.py", self->python_path,
                     sizeof self->python_path))
        self->python_path[0] = 0;
}

/*  Whether a service can start here; why not in why.                      */
static bool
s_available (const s_up_t *self, const hearth_config_service_t *service,
             char *why, size_t size)
{
    char dir[PATH_MAX] = "", path[PATH_MAX];
    if (hearth_cli_plan_service_dir (self->base_dir, service, dir,
                                     sizeof dir) || !s_is_dir (dir)) {
        snprintf (why, size, "directory '%s' not found", dir);
        return false;
    }
    const hearth_config_argv_t *argv = service->kind == HEARTH_SERVICE_WORKER
                                     ? &service->worker : &service->command;
    if (service->kind == HEARTH_SERVICE_MODULE) {
        if (!self->embedded)
            return true;            /* may be installed: python decides     */
        /*  "pkg.mod:function" lives in pkg/mod.py.                         */
        char module[PATH_MAX];
        snprintf (module, sizeof module, "%.*s",
                  (int) strcspn (service->module, ":"), service->module);
        for (char *dot = strchr (module, '.'); dot; dot = strchr (dot, '.'))
            *dot = '/';
        strncat (module, ".py", sizeof module - strlen (module) - 1);
        hearth_cli_plan_join (dir, module, path, sizeof path);
        if (!s_is_file (path) || !self->python_path[0]) {
            snprintf (why, size, "%s", !s_is_file (path)
                      ? "its module is not in the examples directory"
                      : "the hearth Python package is not found "
                        "(set HEARTH_PYTHONPATH)");
            return false;
        }
        return true;
    }
    if (s_find_program (self, argv->argv[0], dir, path, sizeof path)) {
        snprintf (why, size, "program '%s' not found", argv->argv[0]);
        return false;
    }
    if (service->kind == HEARTH_SERVICE_COMMAND
    &&  s_find_program (self, "hearth-worker", dir, path, sizeof path)) {
        snprintf (why, size, "hearth-worker not found next to %s, in the "
                  "build tree or on PATH", self->exe_dir);
        return false;
    }
    /*  A script argument that is missing would only show as a crash loop. */
    for (size_t i = 1; i < argv->count; i++) {
        size_t len = strlen (argv->argv[i]);
        if (len > 3 && strcmp (argv->argv[i] + len - 3, ".py") == 0
        &&  (hearth_cli_plan_join (dir, argv->argv[i], path, sizeof path)
             || !s_is_file (path))) {
            snprintf (why, size, "script '%s' not found in %s",
                      argv->argv[i], dir);
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------ endpoint */

/*  A free TCP port on host, chosen by the kernel; 0 if none.              */
static int
s_free_port (const char *host)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    if (inet_pton (AF_INET, host, &addr.sin_addr) != 1)
        addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    socklen_t len = sizeof addr;
    int port = 0;
    if (fd >= 0 && bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0
    &&  getsockname (fd, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs (addr.sin_port);
    if (fd >= 0)
        close (fd);
    return port;
}

/*  From the first bind: the endpoint to bind (a port of * replaced by a
    free one, so restarts of the broker keep it) and the one to connect.   */
static int
s_endpoints (s_up_t *self)
{
    const char *bind = self->config->broker.bind.argv[0];
    snprintf (self->bind0, sizeof self->bind0, "%s", bind);
    snprintf (self->endpoint, sizeof self->endpoint, "%s", bind);
    if (strncmp (bind, "tcp://", 6) != 0)
        return strncmp (bind, "ipc://", 6) == 0 ? 0 : -1;
    const char *colon = strrchr (bind + 6, ':');
    if (!colon)
        return -1;
    char host[256];
    snprintf (host, sizeof host, "%.*s", (int) (colon - bind - 6), bind + 6);
    const char *port = colon + 1;
    bool wildcard = strcmp (host, "*") == 0 || strcmp (host, "0.0.0.0") == 0;
    char chosen[16];
    if (strcmp (port, "*") == 0 || strcmp (port, "0") == 0) {
        int number = s_free_port (wildcard ? "0.0.0.0" : host);
        if (!number)
            return -1;
        snprintf (chosen, sizeof chosen, "%d", number);
        port = chosen;
        snprintf (self->bind0, sizeof self->bind0, "tcp://%s:%s", host, port);
    }
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://%s:%s",
              wildcard ? "127.0.0.1" : host, port);
    return 0;
}

/* ------------------------------------------------------------ children */

static int
s_find (void *arg, const char *name, const char *directory, char *out,
        size_t size)
{
    return s_find_program (arg, name, directory, out, size);
}

/*  Hands the mesh's children to the supervisor, broker first. 0, or -1
    out of memory.                                                           */
static int
s_add_children (s_up_t *self, const char *broker, const char *worker_host)
{
    const char *python = getenv ("HEARTH_PYTHON");
    hearth_cli_plan_options_t options = {
        .broker = broker,
        .worker_host = worker_host,
        .bind = self->bind0,
        .endpoint = self->endpoint,
        .base_dir = self->base_dir,
        .python = python,
        .python_path = self->python_path,
        .environ = environ,
        .enabled = self->enabled,
        .verbose = hearth_log_level () >= HEARTH_LOG_DEBUG,
        .find = s_find,
        .find_arg = self,
    };
    hearth_cli_plan_t *plan;
    if (hearth_cli_plan_new (self->config, &options, &plan))
        return -1;
    int rc = 0;
    for (size_t i = 0; i < plan->count && rc == 0; i++) {
        const hearth_cli_child_t *child = &plan->children[i];
        rc = hearth_supervisor_add (self->supervisor, child->name, child->path,
                                    child->argv, child->directory, child->env)
             < 0 ? -1 : 0;
    }
    memcpy (self->expected, plan->expected,
            self->config->service_count * sizeof *self->expected);
    hearth_cli_plan_destroy (&plan);
    return rc;
}

/* ----------------------------------------------------------- readiness */

/*  Asks the broker about one service: its worker count and version.
    Returns 0, or -1 if the broker did not answer.                          */
static int
s_service_state (s_up_t *self, const char *name, int *workers, char *version,
                 size_t size)
{
    hearth_reply_t *reply = NULL;
    *workers = 0;
    version[0] = 0;
    int rc = hearth_client_call (self->client, HEARTH_SVC_SERVICES, name,
                                 strlen (name), S_CALL_MS, 0, &reply);
    if (rc == HEARTH_ENOSERVICE || (reply && hearth_reply_status (reply)
                                             == HEARTH_STATUS_NOT_FOUND)) {
        hearth_reply_destroy (&reply);
        return 0;                   /* not registered yet                   */
    }
    size_t body_size = 0;
    const void *body = reply ? hearth_reply_body (reply, &body_size) : NULL;
    /*  Asked for one service, the answer holds exactly that one.           */
    hearth_cli_services_t *list = NULL;
    if (rc != HEARTH_OK || hearth_cli_services_decode (body, body_size, &list)
    ||  list->count != 1) {
        hearth_cli_services_destroy (&list);
        hearth_reply_destroy (&reply);
        return -1;
    }
    const hearth_cli_service_t *service = &list->services[0];
    if (service->workers != HEARTH_CLI_SERVICES_UNKNOWN)
        *workers = service->workers > INT_MAX ? INT_MAX : (int) service->workers;
    if (service->version)
        hearth_cli_out_printable (service->version, strlen (service->version),
                                  version, size);
    hearth_cli_services_destroy (&list);
    hearth_reply_destroy (&reply);
    return 0;
}

/*  The command a service runs, as the user wrote it, for the table.       */
static void
s_command_text (const hearth_config_service_t *service, char *out, size_t size)
{
    const hearth_config_argv_t *argv = service->kind == HEARTH_SERVICE_WORKER
                                     ? &service->worker : &service->command;
    if (service->kind == HEARTH_SERVICE_MODULE) {
        snprintf (out, size, "python3 -m hearth serve %s", service->module);
        return;
    }
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < argv->count && used < size; i++)
        used += (size_t) snprintf (out + used, size - used, "%s%s",
                                   i ? " " : "", argv->argv[i]);
}

/*  True when every enabled service has its workers; with print, writes
    the status table to stderr.                                              */
static bool
s_check_ready (s_up_t *self, bool print, char *waiting, size_t size)
{
    bool ready = true;
    size_t used = 0;
    waiting[0] = 0;
    if (print)
        fprintf (stderr, "%-20s %-9s %-12s %s\n", "SERVICE", "WORKERS",
                 "VERSION", "COMMAND");
    for (size_t i = 0; i < self->config->service_count; i++) {
        if (!self->enabled[i])
            continue;
        const hearth_config_service_t *service = &self->config->services[i];
        int workers;
        char version[64], command[512];
        if (s_service_state (self, service->name, &workers, version,
                             sizeof version))
            return false;
        if (workers < self->expected[i]) {
            ready = false;
            if (used < size)
                used += (size_t) snprintf (waiting + used, size - used,
                                           "%s%s (%d/%d)", used ? ", " : "",
                                           service->name, workers,
                                           self->expected[i]);
        }
        if (print) {
            s_command_text (service, command, sizeof command);
            char count[32];
            snprintf (count, sizeof count, "%d/%d", workers, self->expected[i]);
            fprintf (stderr, "%-20s %-9s %-12s %s\n", service->name, count,
                     *version ? version : "-", command);
        }
    }
    return ready;
}

static void
s_print_ready (s_up_t *self)
{
    char waiting[512];
    fprintf (stderr, "hearth up: mesh %s, broker at %s (pid %d)\n",
             self->config->source, self->endpoint,
             (int) hearth_supervisor_pid (self->supervisor, 0));
    s_check_ready (self, true, waiting, sizeof waiting);
    for (size_t i = 0; i < self->config->pipeline_count; i++)
        if (*self->config->pipelines[i].route)
            fprintf (stderr, "pipeline %s = %s\n",
                     self->config->pipelines[i].name,
                     self->config->pipelines[i].route);
    fprintf (stderr, "ready\n");
    fflush (stderr);
}

/*  Sleeps ms while supervising; returns early when asked to stop.         */
static void
s_supervise (s_up_t *self, int ms)
{
    int64_t until = hearth_clock_ms () + ms;
    while (!s_stopping) {
        hearth_supervisor_tick (self->supervisor);
        int64_t left = until - hearth_clock_ms ();
        if (left <= 0)
            break;
        struct timespec ts = { 0, (long) (left < S_POLL_MS ? left : S_POLL_MS)
                                  * 1000000L };
        nanosleep (&ts, NULL);
    }
}

/*  Waits until the broker answers hearth.ping. 0, or -1 if it died or
    stayed silent (reason printed).                                          */
static int
s_wait_broker (s_up_t *self)
{
    int64_t deadline = hearth_clock_ms () + S_BROKER_START_MS;
    while (!s_stopping && hearth_clock_ms () < deadline) {
        hearth_reply_t *reply = NULL;
        int rc = hearth_client_call (self->client, HEARTH_SVC_PING, "up", 2,
                                     S_READY_POLL_MS, 0, &reply);
        hearth_reply_destroy (&reply);
        if (rc == HEARTH_OK)
            return 0;
        hearth_supervisor_tick (self->supervisor);
        if (hearth_supervisor_pid (self->supervisor, 0) == 0) {
            hearth_cli_out_fail ("up: the broker did not start (see its "
                                 "messages above)");
            return -1;
        }
        s_supervise (self, S_POLL_MS);
    }
    if (!s_stopping)
        hearth_cli_out_fail ("up: the broker at %s did not answer within %d "
                             "ms", self->endpoint, S_BROKER_START_MS);
    return s_stopping ? 0 : -1;
}

/*  Supervises until told to stop, announcing readiness once.              */
static void
s_run (s_up_t *self)
{
    bool announced = false;
    int64_t next_note = hearth_clock_ms () + S_WAIT_NOTE_MS;
    while (!s_stopping) {
        if (!announced) {
            char waiting[512];
            if (s_check_ready (self, false, waiting, sizeof waiting)) {
                s_print_ready (self);
                announced = true;
            }
            else
            if (hearth_clock_ms () >= next_note) {
                hearth_log_info ("still waiting for workers: %s",
                                 *waiting ? waiting : "the broker");
                next_note = hearth_clock_ms () + S_WAIT_NOTE_MS;
            }
        }
        s_supervise (self, announced ? S_POLL_MS : S_READY_POLL_MS);
    }
}

/* ---------------------------------------------------------------- setup */

static int
s_load (s_up_t *self, const char *path)
{
    char error[1024];
    if (path) {
        self->config = hearth_config_load (path, error, sizeof error);
        char copy[PATH_MAX];
        snprintf (copy, sizeof copy, "%s", path);
        if (!realpath (dirname (copy), self->base_dir))
            snprintf (self->base_dir, sizeof self->base_dir, ".");
    }
    else {
        self->embedded = true;
        self->config = hearth_config_load_string (s_default_mesh,
                                                  "(default mesh)", error,
                                                  sizeof error);
        if (s_examples_dir (self, self->base_dir, sizeof self->base_dir))
            snprintf (self->base_dir, sizeof self->base_dir, ".");
    }
    if (!self->config) {
        fprintf (stderr, "hearth: %s\n", error);
        return -1;
    }
    size_t count = self->config->service_count;
    self->enabled = calloc (count, sizeof (bool));
    self->expected = calloc (count, sizeof (int));
    if (!self->enabled || !self->expected) {
        hearth_cli_out_fail ("up: out of memory");
        return -1;
    }
    return 0;
}

/*  --bind: the broker binds here instead of the mesh's first endpoint.    */
static int
s_override_bind (s_up_t *self, const char *bind)
{
    char *copy = strdup (bind);
    if (!copy) {
        hearth_cli_out_fail ("up: out of memory");
        return -1;
    }
    free (self->config->broker.bind.argv[0]);
    self->config->broker.bind.argv[0] = copy;
    return 0;
}

/*  Decides which services run. In the default mesh a service whose files
    are missing is left out (with the pipelines naming it); in a given mesh
    that is an error.                                                        */
static int
s_select (s_up_t *self)
{
    int enabled = 0;
    for (size_t i = 0; i < self->config->service_count; i++) {
        const hearth_config_service_t *service = &self->config->services[i];
        char why[PATH_MAX + 64];
        self->enabled[i] = s_available (self, service, why, sizeof why);
        if (self->enabled[i])
            enabled++;
        else
        if (self->embedded)
            hearth_log_warn ("default mesh: leaving out %s: %s",
                             service->name, why);
        else {
            hearth_cli_out_fail ("up: %s:%d: service '%s': %s",
                                 self->config->source, service->line,
                                 service->name, why);
            return -1;
        }
    }
    for (size_t i = 0; i < self->config->pipeline_count; i++) {
        hearth_config_pipeline_t *pipeline = &self->config->pipelines[i];
        for (size_t k = 0; k < self->config->service_count; k++)
            if (!self->enabled[k]) {
                /*  Marking the route bad keeps it off the broker's line.  */
                const char *name = self->config->services[k].name;
                char *hit = strstr (pipeline->route, name);
                size_t len = strlen (name);
                if (hit && (hit == pipeline->route || strchr (",[ ", hit[-1]))
                &&  (!hit[len] || strchr (",] ", hit[len]))) {
                    hearth_log_warn ("default mesh: leaving out pipeline %s",
                                     pipeline->name);
                    pipeline->route[0] = 0;
                    break;
                }
            }
    }
    if (enabled == 0) {
        hearth_cli_out_fail ("up: no service can start");
        return -1;
    }
    return 0;
}

static int
s_build (s_up_t *self)
{
    char broker[PATH_MAX], host[PATH_MAX] = "";
    if (s_find_program (self, "hearth-broker", self->base_dir, broker,
                        sizeof broker)) {
        hearth_cli_out_fail ("up: hearth-broker not found next to %s, in the "
                             "build tree or on PATH", self->exe_dir);
        return -1;
    }
    for (size_t i = 0; i < self->config->service_count; i++)
        if (self->enabled[i]
        &&  self->config->services[i].kind == HEARTH_SERVICE_COMMAND
        &&  !*host
        &&  s_find_program (self, "hearth-worker", self->base_dir, host,
                            sizeof host)) {
            hearth_cli_out_fail ("up: hearth-worker (needed by service '%s') "
                                 "not found", self->config->services[i].name);
            return -1;
        }
    if (s_endpoints (self)) {
        hearth_cli_out_fail ("up: cannot use '%s' (the first bind must be "
                             "tcp://HOST:PORT or ipc://PATH)",
                             self->config->broker.bind.argv[0]);
        return -1;
    }
    /*  hearth-worker and `hearth serve` take them on their command line;
        a worker program publishes a descriptor of its own, so say that
        these keys are not used rather than drop them silently.            */
    for (size_t i = 0; i < self->config->service_count; i++) {
        const hearth_config_service_t *service = &self->config->services[i];
        if (self->enabled[i] && service->kind == HEARTH_SERVICE_WORKER
        &&  (service->input_schema || service->output_schema
             || service->example))
            hearth_log_warn ("service '%s': schema and example are not "
                             "published for worker services (the program "
                             "publishes its own descriptor)", service->name);
    }
    self->supervisor = hearth_supervisor_new ();
    if (!self->supervisor || s_add_children (self, broker, host)) {
        hearth_cli_out_fail ("up: out of memory");
        return -1;
    }
    self->client = hearth_client_new (self->endpoint);
    if (!self->client) {
        hearth_cli_out_fail ("up: invalid endpoint '%s'", self->endpoint);
        return -1;
    }
    hearth_client_set_name (self->client, "hearth-up", HEARTH_VERSION_STRING);
    hearth_client_set_connect_timeout (self->client, S_READY_POLL_MS);
    return 0;
}

/*  The broker first (PROTOCOL.md 5.6): it refuses new requests at once
    (503, so a caller learns now) and serves everything it accepted through
    the workers, which keep running and stay supervised; once it holds
    nothing (or its grace is over) it disconnects them and exits. Only then
    the workers, which hold nothing by now. The other order strands the
    requests queued behind those in flight: their workers leave and the
    broker answers them 503 when its grace ends.                            */
static void
s_stop (s_up_t *self)
{
    if (!self->supervisor)
        return;
    int size = hearth_supervisor_size (self->supervisor);
    hearth_log_info ("stopping the broker (it serves what it accepted), then "
                     "%d worker process%s", size - 1, size == 2 ? "" : "es");
    hearth_supervisor_stop (self->supervisor, 0, 1,
                            self->config->broker.settings.grace_ms + 5000);
    hearth_supervisor_stop (self->supervisor, 1, size - 1, S_WORKER_STOP_MS);
    hearth_log_info ("stopped");
}

static void
s_destroy (s_up_t *self)
{
    hearth_client_destroy (&self->client);
    hearth_supervisor_destroy (&self->supervisor, 1000);
    hearth_config_destroy (&self->config);
    free (self->enabled);
    free (self->expected);
}

static void
s_print_summary (const s_up_t *self)
{
    const hearth_config_t *config = self->config;
    printf ("%s: ok: broker at %s, %zu service%s, %zu pipeline%s\n",
            config->source, config->broker.bind.argv[0], config->service_count,
            config->service_count == 1 ? "" : "s", config->pipeline_count,
            config->pipeline_count == 1 ? "" : "s");
    for (size_t i = 0; i < config->service_count; i++) {
        char command[512];
        s_command_text (&config->services[i], command, sizeof command);
        printf ("  service %s: %s\n", config->services[i].name, command);
    }
    if (self->embedded)
        printf ("  examples: %s\n  python package: %s\n", self->base_dir,
                *self->python_path ? self->python_path : "(not found)");
    for (size_t i = 0; i < config->pipeline_count; i++)
        printf ("  pipeline %s = %s\n", config->pipelines[i].name,
                config->pipelines[i].route);
}

/*  Parses up's options. Returns -1 on a usage error, 1 when done (help,
    print-default), else 0.                                                  */
static int
s_parse (int argc, char **argv, s_options_t *options)
{
    static const struct option extra[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    memset (options, 0, sizeof *options);
    hearth_settings_getopt_t parser;
    hearth_settings_getopt_init (&parser, s_settings, ":h", extra);
    opterr = 0;
    optind = 0;
    int c;
    while ((c = getopt_long (argc, argv, parser.shorts, parser.options,
                             NULL)) != -1) {
        const hearth_setting_t *setting =
            hearth_settings_getopt_setting (&parser, c);
        if (setting) {
            /*  Strings and flags: nothing to refuse.                       */
            hearth_settings_set (setting, optarg, options);
            if (options->print_default) {
                fputs (s_default_mesh, stdout);
                return 1;
            }
        }
        else
        if (c == 'h') {
            s_usage (stdout);
            return 1;
        }
        else {
            hearth_cli_args_unknown ("hearth up", argv);
            return -1;
        }
    }
    if (optind < argc) {
        hearth_cli_out_fail ("up: unexpected argument (try 'hearth up "
                             "--help')");
        return -1;
    }
    return 0;
}

int
hearth_cli_up (const hearth_cli_opts_t *opts, int argc, char **argv)
{
    (void) opts;                    /* the mesh says where the broker is    */
    s_options_t options;
    int rc = s_parse (argc, argv, &options);
    if (rc)
        return rc > 0 ? HEARTH_EXIT_OK : HEARTH_EXIT_USAGE;
    s_up_t self;
    memset (&self, 0, sizeof self);
    char exe[PATH_MAX];
    ssize_t len = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    exe[len > 0 ? len : 0] = 0;
    snprintf (self.exe_dir, sizeof self.exe_dir, "%s",
              len > 0 ? dirname (exe) : ".");
    s_python_path (&self);
    if (s_load (&self, options.config)
    ||  (options.bind && s_override_bind (&self, options.bind))) {
        s_destroy (&self);
        return HEARTH_EXIT_ERROR;
    }
    if (options.check) {
        s_print_summary (&self);
        s_destroy (&self);
        return HEARTH_EXIT_OK;
    }
    if (self.embedded)
        hearth_log_info ("default mesh: examples in %s, Python package in "
                         "%s", self.base_dir, *self.python_path
                         ? self.python_path : "(not found)");
    struct sigaction action = { .sa_handler = s_on_signal };
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
    int code = HEARTH_EXIT_ERROR;
    if (s_select (&self) == 0 && s_build (&self) == 0
    &&  hearth_supervisor_start (self.supervisor, 0) == 0
    &&  s_wait_broker (&self) == 0) {
        for (int i = 1; i < hearth_supervisor_size (self.supervisor)
                        && !s_stopping; i++)
            hearth_supervisor_start (self.supervisor, i);
        s_run (&self);
        code = HEARTH_EXIT_OK;
    }
    s_stop (&self);
    s_destroy (&self);
    return code;
}
