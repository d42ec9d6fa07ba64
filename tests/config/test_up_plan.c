/*  hearth_cli_plan: the children `hearth up` starts for a mesh, read from
    a loaded mesh.yml without starting anything. One test per service kind
    and per option that reaches a child's command line or environment.    */
#include <stdlib.h>
#include "hearth_cli_plan.h"
#include "hearth_test.h"

static char *s_environ[] = { "PATH=/bin", "HEARTH_BROKER=tcp://old:1",
                             "PYTHONPATH=/old", "LANG=C", NULL };

/*  Pretends programs were found: bare names under /opt/bin, names with a
    '/' under their directory; "missing" is not found.                      */
static int
s_find (void *arg, const char *name, const char *directory, char *out,
        size_t size)
{
    (*(int *) arg)++;
    if (strcmp (name, "missing") == 0)
        return -1;
    if (strchr (name, '/'))
        return hearth_cli_plan_join (directory, name, out, size);
    snprintf (out, size, "/opt/bin/%s", name);
    return 0;
}

static int s_finds;

static hearth_cli_plan_options_t
s_options (void)
{
    hearth_cli_plan_options_t options = {
        .broker = "/opt/bin/hearth-broker",
        .worker_host = "/opt/bin/hearth-worker",
        .bind = "tcp://127.0.0.1:7001",
        .endpoint = "tcp://127.0.0.1:7001",
        .base_dir = "/mesh",
        .python = NULL,
        .python_path = "/pkg",
        .environ = s_environ,
        .find = s_find,
        .find_arg = &s_finds,
    };
    return options;
}

static hearth_config_t *
s_load (const char *yaml)
{
    char error[512] = "";
    hearth_config_t *config = hearth_config_load_string (yaml, "test.yml",
                                                         error, sizeof error);
    if (!config)
        HEARTH_TEST_FAIL_AT ("config: %s", error);
    return config;
}

/*  The plan for yaml, or NULL (a failure counted).                        */
static hearth_cli_plan_t *
s_plan (hearth_config_t *config, const hearth_cli_plan_options_t *options)
{
    hearth_cli_plan_t *plan = NULL;
    if (!config || hearth_cli_plan_new (config, options, &plan)) {
        HEARTH_TEST_FAIL_AT ("no plan");
        return NULL;
    }
    return plan;
}

/*  argv joined with spaces, for one comparison per command line.          */
static const char *
s_line (char **argv)
{
    static char line[4096];
    size_t used = 0;
    line[0] = 0;
    for (size_t i = 0; argv && argv[i] && used < sizeof line; i++)
        used += (size_t) snprintf (line + used, sizeof line - used, "%s%s",
                                   i ? " " : "", argv[i]);
    return line;
}

/*  The value of NAME= in env, or NULL; also checks it is there once.      */
static const char *
s_env (char **env, const char *name)
{
    size_t len = strlen (name);
    const char *value = NULL;
    int seen = 0;
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp (env[i], name, len) == 0 && env[i][len] == '=') {
            value = env[i] + len + 1;
            seen++;
        }
    CHECK (seen <= 1);
    return value;
}

/*  The broker is child 0, with every broker setting as a flag.            */
static void
test_broker_settings (void)
{
    hearth_config_t *config = s_load (
        "broker:\n"
        "  bind: ['tcp://*:*', 'ipc:///tmp/b']\n"
        "  heartbeat_ms: 250\n"
        "  liveness: 4\n"
        "  queue_max: 77\n"
        "  max_message: 2048\n"
        "  max_pending_bytes: 4096\n"
        "  default_deadline_ms: 1234\n"
        "  linger_ms: 0\n"
        "  grace_ms: 10\n"
        "  send_hwm: 5\n"
        "services:\n"
        "  a:\n"
        "    worker: [prog]\n"
        "pipelines:\n"
        "  p: a, a\n");
    hearth_cli_plan_options_t options = s_options ();
    options.verbose = true;
    hearth_cli_plan_t *plan = s_plan (config, &options);
    if (plan) {
        CHECK_INT (plan->count, 2);
        const hearth_cli_child_t *broker = &plan->children[0];
        CHECK_STR (broker->name, "broker");
        CHECK_INT (broker->service, -1);
        CHECK_STR (broker->path, "/opt/bin/hearth-broker");
        CHECK_STR (s_line (broker->argv),
                   "/opt/bin/hearth-broker --bind tcp://127.0.0.1:7001 "
                   "--bind ipc:///tmp/b --heartbeat-ms 250 --liveness 4 "
                   "--queue-max 77 --max-message 2048 "
                   "--max-pending-bytes 4096 --default-deadline-ms 1234 "
                   "--linger-ms 0 --grace-ms 10 --send-hwm 5 "
                   "--pipeline p=a, a --verbose");
        CHECK (broker->directory == NULL);
        CHECK_STR (s_env (broker->env, "HEARTH_BROKER"), "tcp://127.0.0.1:7001");
        CHECK_STR (s_env (broker->env, "PYTHONPATH"), "/old");
        CHECK_STR (s_env (broker->env, "LANG"), "C");
    }
    hearth_cli_plan_destroy (&plan);
    CHECK (plan == NULL);
    hearth_cli_plan_destroy (&plan);            /* idempotent              */
    hearth_config_destroy (&config);
}

/*  Defaults are passed as flags too, and a pipeline emptied by the caller
    (a service left out) is not.                                            */
static void
test_broker_defaults (void)
{
    hearth_config_t *config = s_load (
        "services:\n"
        "  a:\n"
        "    worker: [prog]\n"
        "pipelines:\n"
        "  p: a\n");
    if (config)
        config->pipelines[0].route[0] = 0;
    hearth_cli_plan_options_t options = s_options ();
    hearth_cli_plan_t *plan = s_plan (config, &options);
    if (plan)
        CHECK_STR (s_line (plan->children[0].argv),
                   "/opt/bin/hearth-broker --bind tcp://127.0.0.1:7001 "
                   "--heartbeat-ms 1000 --liveness 3 --queue-max 1000 "
                   "--max-message 16777216 --max-pending-bytes 1073741824 "
                   "--default-deadline-ms 30000 --linger-ms 5000 "
                   "--grace-ms 5000 --send-hwm 100000");
    hearth_cli_plan_destroy (&plan);
    hearth_config_destroy (&config);
}

/*  A command service: one hearth-worker with every option, the program
    found in the service's directory.                                       */
static void
test_command_service (void)
{
    hearth_config_t *config = s_load (
        "services:\n"
        "  words:\n"
        "    command: [./count.sh, --fast, 'two words']\n"
        "    directory: sub\n"
        "    processes: 3\n"
        "    timeout_ms: 900\n"
        "    start_timeout_ms: 800\n"
        "    ready_line: READY NOW\n"
        "    framing: length\n"
        "    idempotent: true\n"
        "    version: 1.0.2\n"
        "    description: counts words\n"
        "    schema:\n"
        "      input: '{\"type\": \"object\"}'\n"
        "      output: '{}'\n"
        "    example: '{\"t\": 1}'\n");
    hearth_cli_plan_options_t options = s_options ();
    hearth_cli_plan_t *plan = s_plan (config, &options);
    if (plan) {
        CHECK_INT (plan->count, 2);
        const hearth_cli_child_t *child = &plan->children[1];
        CHECK_STR (child->name, "words");
        CHECK_INT (child->service, 0);
        CHECK_STR (child->path, "/opt/bin/hearth-worker");
        CHECK_STR (child->directory, "/mesh/sub");
        CHECK_STR (s_line (child->argv),
                   "/opt/bin/hearth-worker -s words -b tcp://127.0.0.1:7001 "
                   "-n 3 --timeout 900 --start-timeout 800 "
                   "--ready-line READY NOW --framing length --idempotent "
                   "--version-string 1.0.2 --description counts words "
                   "--input-schema {\"type\": \"object\"} --output-schema {} "
                   "--example {\"t\": 1} -- /mesh/sub/./count.sh --fast "
                   "two words");
        CHECK_INT (plan->expected[0], 3);
        CHECK_STR (s_env (child->env, "HEARTH_BROKER"), "tcp://127.0.0.1:7001");
        /*  Only Python children get our PYTHONPATH.                        */
        CHECK_STR (s_env (child->env, "PYTHONPATH"), "/old");
    }
    hearth_cli_plan_destroy (&plan);
    hearth_config_destroy (&config);
}

/*  Per-request: hearth-worker registers one worker whatever processes is;
    defaults show as flags; a program that is not found runs as named.     */
static void
test_command_per_request (void)
{
    hearth_config_t *config = s_load (
        "services:\n"
        "  once:\n"
        "    command: [missing, x]\n"
        "    processes: 4\n"
        "    per_request: true\n");
    hearth_cli_plan_options_t options = s_options ();
    hearth_cli_plan_t *plan = s_plan (config, &options);
    if (plan) {
        CHECK_INT (plan->count, 2);
        CHECK_STR (s_line (plan->children[1].argv),
                   "/opt/bin/hearth-worker -s once -b tcp://127.0.0.1:7001 "
                   "-n 4 --timeout 30000 --start-timeout 60000 --framing line "
                   "--per-request -- missing x");
        CHECK_STR (plan->children[1].directory, "/mesh");
        CHECK_INT (plan->expected[0], 1);
    }
    hearth_cli_plan_destroy (&plan);
    hearth_config_destroy (&config);
}

/*  A module service: `processes` copies of python3 -m hearth serve, with
    the service directory then the hearth package first on PYTHONPATH.     */
static void
test_module_service (void)
{
    hearth_config_t *config = s_load (
        "services:\n"
        "  kw:\n"
        "    module: pkg.mod:keywords\n"
        "    directory: /abs/dir\n"
        "    processes: 2\n"
        "    concurrency: 8\n"
        "    idempotent: true\n"
        "    version: '2'\n"
        "    description: finds keywords\n"
        "    example: '{}'\n");
    hearth_cli_plan_options_t options = s_options ();
    hearth_cli_plan_t *plan = s_plan (config, &options);
    if (plan) {
        CHECK_INT (plan->count, 3);
        for (size_t i = 1; i < plan->count && i < 3; i++) {
            const hearth_cli_child_t *child = &plan->children[i];
            CHECK_STR (child->name, i == 1 ? "kw#1" : "kw#2");
            CHECK_INT (child->service, 0);
            CHECK_STR (child->path, "/usr/bin/python3");
            CHECK_STR (child->directory, "/abs/dir");
            CHECK_STR (s_line (child->argv),
                       "/usr/bin/python3 -m hearth serve pkg.mod:keywords "
                       "-s kw -b tcp://127.0.0.1:7001 -n 8 --idempotent "
                       "--version-string 2 --description finds keywords "
                       "--example {}");
            CHECK_STR (s_env (child->env, "PYTHONPATH"), "/abs/dir:/pkg:/old");
            CHECK_STR (s_env (child->env, "HEARTH_BROKER"),
                       "tcp://127.0.0.1:7001");
            CHECK_STR (s_env (child->env, "PATH"), "/bin");
        }
        CHECK_INT (plan->expected[0], 2);
    }
    hearth_cli_plan_destroy (&plan);
    hearth_config_destroy (&config);
}

/*  $HEARTH_PYTHON (as the caller passes it) replaces the interpreter, and
    is looked up like any program; without a package or an old PYTHONPATH
    only the directory is on it.                                            */
static void
test_module_python_override (void)
{
    hearth_config_t *config = s_load (
        "services:\n"
        "  kw:\n"
        "    module: m:f\n");
    static char *bare[] = { "HOME=/h", NULL };
    hearth_cli_plan_options_t options = s_options ();
    options.python = "python3.11";
    options.python_path = "";
    options.environ = bare;
    hearth_cli_plan_t *plan = s_plan (config, &options);
    if (plan) {
        CHECK_INT (plan->count, 2);
        CHECK_STR (s_line (plan->children[1].argv),
                   "/opt/bin/python3.11 -m hearth serve m:f -s kw "
                   "-b tcp://127.0.0.1:7001 -n 1");
        CHECK_STR (s_env (plan->children[1].env, "PYTHONPATH"), "/mesh");
        CHECK_STR (plan->children[1].name, "kw");
    }
    hearth_cli_plan_destroy (&plan);
    hearth_config_destroy (&config);
}

/*  A worker service: its own program as is, `processes` copies, nothing
    added to its arguments; the descriptor keys are not passed.            */
static void
test_worker_service (void)
{
    hearth_config_t *config = s_load (
        "services:\n"
        "  exp:\n"
        "    worker: [hearth-expert-sentiment, --flag]\n"
        "    processes: 2\n"
        "    version: '9'\n"
        "    example: '{}'\n");
    hearth_cli_plan_options_t options = s_options ();
    hearth_cli_plan_t *plan = s_plan (config, &options);
    if (plan) {
        CHECK_INT (plan->count, 3);
        for (size_t i = 1; i < plan->count && i < 3; i++) {
            const hearth_cli_child_t *child = &plan->children[i];
            CHECK_STR (child->name, i == 1 ? "exp#1" : "exp#2");
            CHECK_STR (child->path, "/opt/bin/hearth-expert-sentiment");
            CHECK_STR (s_line (child->argv),
                       "/opt/bin/hearth-expert-sentiment --flag");
            CHECK_STR (child->directory, "/mesh");
            CHECK_STR (s_env (child->env, "HEARTH_BROKER"),
                       "tcp://127.0.0.1:7001");
            CHECK_STR (s_env (child->env, "PYTHONPATH"), "/old");
        }
        CHECK_INT (plan->expected[0], 2);
    }
    hearth_cli_plan_destroy (&plan);
    hearth_config_destroy (&config);
}

/*  Services not enabled get no children and expect no workers; the order
    is the file's; without a find callback names run as they are.          */
static void
test_enabled_and_order (void)
{
    hearth_config_t *config = s_load (
        "services:\n"
        "  a:\n"
        "    worker: [pa]\n"
        "  b:\n"
        "    command: [pb]\n"
        "  c:\n"
        "    module: m:f\n");
    bool enabled[] = { true, false, true };
    hearth_cli_plan_options_t options = s_options ();
    options.enabled = enabled;
    options.find = NULL;
    s_finds = 0;
    hearth_cli_plan_t *plan = s_plan (config, &options);
    if (plan) {
        CHECK_INT (plan->count, 3);
        CHECK_STR (plan->children[1].name, "a");
        CHECK_INT (plan->children[1].service, 0);
        CHECK_STR (plan->children[1].path, "pa");
        CHECK_STR (plan->children[2].name, "c");
        CHECK_INT (plan->children[2].service, 2);
        CHECK_STR (plan->children[2].path, "/usr/bin/python3");
        CHECK_INT (plan->expected[0], 1);
        CHECK_INT (plan->expected[1], 0);
        CHECK_INT (plan->expected[2], 1);
    }
    CHECK_INT (s_finds, 0);
    hearth_cli_plan_destroy (&plan);
    hearth_config_destroy (&config);
}

static void
test_paths (void)
{
    char out[16];
    CHECK_INT (hearth_cli_plan_join ("/a", "b", out, sizeof out), 0);
    CHECK_STR (out, "/a/b");
    CHECK_INT (hearth_cli_plan_join ("/a", "/b", out, sizeof out), 0);
    CHECK_STR (out, "/b");
    CHECK_INT (hearth_cli_plan_join ("/a", "0123456789abc", out, sizeof out),
               -1);
    CHECK_INT (hearth_cli_plan_join ("/a", "0123456789a", out, sizeof out),
               0);
    CHECK_STR (out, "/a/0123456789a");
}

int
main (void)
{
    RUN (test_broker_settings);
    RUN (test_broker_defaults);
    RUN (test_command_service);
    RUN (test_command_per_request);
    RUN (test_module_service);
    RUN (test_module_python_override);
    RUN (test_worker_service);
    RUN (test_enabled_and_order);
    RUN (test_paths);
    return HEARTH_TEST_RESULT;
}
