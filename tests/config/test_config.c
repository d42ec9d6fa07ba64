/*  test_config - the mesh.yml loader (common/hearth_config.c).

    The shipped example (deploy/mesh.yml) must load with the values it
    documents; then one bad file per error class (tests/config/bad/), each
    checked for the exact "FILE:LINE:COLUMN: message", so a loader that
    reports the wrong place fails here.
*/
#include "hearth_config.h"
#include "hearth/hearth_proto.h"
#include "hearth_test.h"

#include <stdlib.h>

#ifndef TEST_SOURCE_DIR
#   error "TEST_SOURCE_DIR must name the source tree"
#endif

static void
test_deploy_example (void)
{
    char error[512];
    hearth_config_t *config = hearth_config_load (TEST_SOURCE_DIR
                                                  "/deploy/mesh.yml",
                                                  error, sizeof error);
    if (!config) {
        HEARTH_TEST_FAIL_AT ("deploy/mesh.yml: %s", error);
        return;
    }
    CHECK_INT (config->broker.bind.count, 1);
    CHECK_STR (config->broker.bind.argv[0], "tcp://127.0.0.1:5555");
    CHECK (config->broker.bind.argv[1] == NULL);
    CHECK_INT (config->broker.settings.heartbeat_ms, 1000);
    CHECK_INT (config->broker.settings.liveness, 3);
    CHECK_INT (config->broker.settings.queue_max, 1000);
    CHECK_INT (config->broker.settings.max_message, 16777216);
    CHECK_INT (config->broker.settings.max_pending_bytes, 1073741824);
    CHECK_INT (config->broker.settings.default_deadline_ms, 30000);
    CHECK_INT (config->broker.settings.linger_ms, 5000);
    CHECK_INT (config->broker.settings.grace_ms, 5000);
    CHECK_INT (config->service_count, 4);

    const hearth_config_service_t *wordcount =
        hearth_config_service (config, "wordcount");
    CHECK (wordcount != NULL);
    if (wordcount) {
        CHECK_INT (wordcount->kind, HEARTH_SERVICE_COMMAND);
        CHECK_INT (wordcount->command.count, 2);
        CHECK_STR (wordcount->command.argv[1], "wordcount.py");
        CHECK (wordcount->command.argv[2] == NULL);
        CHECK_STR (wordcount->directory, "../workers/examples");
        CHECK_INT (wordcount->processes, 2);
        CHECK_INT (wordcount->framing, HEARTH_FRAMING_LINE);
        CHECK (wordcount->idempotent);
        CHECK (!wordcount->per_request);
        CHECK_STR (wordcount->version, "1.0");
        CHECK (wordcount->input_schema && strstr (wordcount->input_schema,
                                                  "\"text\""));
        CHECK (wordcount->output_schema != NULL);
        CHECK_STR (wordcount->example, "{\"text\": \"hello warm world\"}");
    }
    const hearth_config_service_t *slow =
        hearth_config_service (config, "slowstart");
    CHECK (slow && slow->ready_line && strcmp (slow->ready_line, "READY") == 0);
    CHECK (slow && slow->start_timeout_ms == 20000 && slow->timeout_ms == 30000);
    const hearth_config_service_t *keywords =
        hearth_config_service (config, "keywords");
    CHECK (keywords && keywords->kind == HEARTH_SERVICE_MODULE);
    CHECK (keywords && strcmp (keywords->module, "py_expert:keywords") == 0);
    CHECK (keywords && keywords->concurrency == 2 && keywords->processes == 1);
    const hearth_config_service_t *sentiment =
        hearth_config_service (config, "sentiment");
    CHECK (sentiment && sentiment->kind == HEARTH_SERVICE_WORKER);
    CHECK (sentiment && sentiment->worker.count == 3);
    CHECK (sentiment && sentiment->description == NULL);
    CHECK (hearth_config_service (config, "nosuch") == NULL);

    CHECK_INT (config->pipeline_count, 2);
    if (config->pipeline_count == 2) {
        CHECK_STR (config->pipelines[0].name, "opinions");
        CHECK_STR (config->pipelines[0].route, "wordcount,[sentiment,keywords]");
        CHECK_STR (config->pipelines[1].name, "slow");
    }
    hearth_config_destroy (&config);
    CHECK (config == NULL);
    hearth_config_destroy (&config);
}

/*  The smallest mesh: everything not said takes the binaries' defaults.   */
static void
test_defaults (void)
{
    char error[512];
    hearth_config_t *config = hearth_config_load_string (
        "services:\n  echo:\n    command: [cat]\n", "mini.yml", error,
        sizeof error);
    CHECK (config != NULL);
    if (!config) {
        HEARTH_TEST_FAIL_AT ("%s", error);
        return;
    }
    CHECK_STR (config->source, "mini.yml");
    CHECK_INT (config->broker.bind.count, 1);
    CHECK_STR (config->broker.bind.argv[0], HEARTH_DEFAULT_ENDPOINT);
    CHECK_INT (config->broker.settings.heartbeat_ms, HEARTH_DEFAULT_HEARTBEAT_MS);
    CHECK_INT (config->broker.settings.grace_ms, HEARTH_DEFAULT_GRACE_MS);
    const hearth_config_service_t *echo = &config->services[0];
    CHECK_STR (echo->name, "echo");
    CHECK_INT (echo->kind, HEARTH_SERVICE_COMMAND);
    CHECK_INT (echo->processes, 1);
    CHECK_INT (echo->concurrency, 1);
    CHECK_INT (echo->timeout_ms, 30000);
    CHECK_INT (echo->start_timeout_ms, 60000);
    CHECK (echo->ready_line == NULL && echo->directory == NULL);
    CHECK (!echo->idempotent && !echo->per_request);
    CHECK_INT (config->pipeline_count, 0);
    hearth_config_destroy (&config);
}

typedef struct {
    const char *file;               /* in tests/config/bad/                 */
    const char *expected;           /* the error after "PATH:"              */
} s_bad_file_t;

static const s_bad_file_t s_bad_files[] = {
    { "syntax.yml", "4:4: YAML syntax error: did not find expected ',' or "
                    "']' while parsing a flow sequence" },
    { "alias.yml", "5:13: aliases are not allowed" },
    { "anchor.yml", "3:13: anchors are not allowed" },
    { "unknown_key.yml", "4:5: unknown key 'procesess' in service 'a'" },
    { "duplicate_key.yml", "5:5: duplicate key 'processes' (first at line 4)" },
    { "wrong_type.yml", "4:16: 'processes' must be an integer" },
    { "out_of_range.yml", "2:17: 'heartbeat_ms' must be 10 to 3600000, not 5" },
    { "too_deep.yml", "5:18: nested deeper than 8 levels" },
    { "unknown_service.yml", "5:6: pipeline 'p': unknown service 'nosuch'" },
    { "empty_services.yml", "3:11: 'services' must name at least one service" },
    { "bad_route.yml", "7:6: pipeline 'p': group not closed with ']'" },
};

static void
test_bad_files (void)
{
    for (size_t i = 0; i < sizeof s_bad_files / sizeof s_bad_files[0]; i++) {
        char path[512], expected[1024], error[512] = "";
        snprintf (path, sizeof path, "%s/tests/config/bad/%s", TEST_SOURCE_DIR,
                  s_bad_files[i].file);
        snprintf (expected, sizeof expected, "%s:%s", path,
                  s_bad_files[i].expected);
        hearth_config_t *config = hearth_config_load (path, error, sizeof error);
        CHECK (config == NULL);
        CHECK_STR (error, expected);
        hearth_config_destroy (&config);
    }
}

typedef struct {
    const char *text;
    const char *expected;           /* the error after "t.yml:"             */
} s_bad_text_t;

/*  Errors not worth a file each: checked in memory.                        */
static const s_bad_text_t s_bad_texts[] = {
    { "", "1:1: the config is empty" },
    { "- a\n- b\n", "1:1: the config must be a map with 'services'" },
    { "services:\n  a: {worker: [x]}\n---\nservices: {}\n",
      "3:1: only one YAML document is allowed" },
    { "services:\n  a: {worker: !!str x}\n", "2:15: tags are not allowed" },
    { "broker: {grace_ms: 1}\n",
      "1:1: no 'services': a mesh needs at least one service" },
    { "services:\n  a: {processes: 2}\n",
      "2:3: service 'a' needs one of command, module or worker" },
    { "services:\n  a: {command: [cat], module: 'm:f'}\n",
      "2:3: service 'a' has more than one of command, module and worker" },
    { "services:\n  a: {module: nofunction}\n",
      "2:3: service 'a': module must be MODULE:FUNCTION, not 'nofunction'" },
    { "services:\n  'a b': {command: [cat]}\n",
      "2:3: service name 'a b' must not contain spaces, control characters, "
      "',', '[' or ']'" },
    { "services:\n  hearth.x: {command: [cat]}\n",
      "2:3: service name 'hearth.x' is reserved for the broker (mmi., hearth.)" },
    { "services:\n  a: {command: []}\n",
      "2:16: 'command' must be a non-empty list of strings" },
    { "services:\n  a: {command: cat}\n",
      "2:16: 'command' must be a non-empty list of strings" },
    { "services:\n  a: {command: [cat], framing: lines}\n",
      "2:32: 'framing' must be line or length" },
    { "services:\n  a: {command: [cat], idempotent: yes}\n",
      "2:35: 'idempotent' must be true or false" },
    { "services:\n  a:\n    command: [cat]\n    description: ~\n",
      "4:18: 'description' has no value" },
    { "services:\n  a: {command: [cat], processes: '2'}\n",
      "2:34: 'processes' must be an integer" },
    { "services:\n  a: {command: [cat]}\nbogus: 1\n",
      "3:1: unknown key 'bogus' in the top level" },
    { "broker: {bind: tcp://x:1}\nservices:\n  a: {command: [cat]}\n",
      "1:16: 'bind' must be a non-empty list of strings" },
    { "broker: {max_message: 99999999999999999999}\nservices:\n"
      "  a: {command: [cat]}\n",
      "1:23: 'max_message' must be 1024 to 1073741824, not "
      "99999999999999999999" },
    { "broker:\n  max_message: 2048\n  max_pending_bytes: 1024\nservices:\n"
      "  a: {command: [cat]}\n",
      "3:22: max_pending_bytes (1024) must be at least max_message (2048)" },
    { "services:\n  a: {command: [cat]}\npipelines:\n  a: a\n",
      "4:3: pipeline 'a' has the name of a service" },
    { "services:\n  a: {command: [cat]}\npipelines:\n  p: a,,a\n",
      "4:6: pipeline 'p': empty service name at ',a'" },
    { "services:\n  a: {command: [cat]}\npipelines:\n  p: '[a,[a]]'\n",
      "4:6: pipeline 'p': groups cannot be nested" },
    { "services:\n  a: {command: [cat]}\npipelines:\n  p: [a]\n",
      "4:6: pipeline 'p' must be a route string such as 'a,[b,c],d'" },
};

static void
test_bad_texts (void)
{
    for (size_t i = 0; i < sizeof s_bad_texts / sizeof s_bad_texts[0]; i++) {
        char expected[1024], error[512] = "";
        snprintf (expected, sizeof expected, "t.yml:%s",
                  s_bad_texts[i].expected);
        hearth_config_t *config = hearth_config_load_string (
            s_bad_texts[i].text, "t.yml", error, sizeof error);
        CHECK (config == NULL);
        CHECK_STR (error, expected);
        hearth_config_destroy (&config);
    }
}

/*  A config larger than the cap and a missing file: refused, named.       */
static void
test_file_errors (void)
{
    char error[512];
    hearth_config_t *config = hearth_config_load ("/nonexistent/mesh.yml",
                                                  error, sizeof error);
    CHECK (config == NULL);
    CHECK_STR (error, "/nonexistent/mesh.yml: No such file or directory");
    /*  A short buffer is still NUL-terminated and never overrun.           */
    char tiny[8];
    config = hearth_config_load_string ("x: 1\n", "t.yml", tiny, sizeof tiny);
    CHECK (config == NULL);
    CHECK_STR (tiny, "t.yml:1");
}

/*  The broker takes at most 256 --pipeline and 16 --bind: so does the
    loader, or a mesh that loads could not start.                           */
static void
test_broker_limits (void)
{
    char text[16384] = "services:\n  a: {command: [cat]}\npipelines:\n";
    for (int i = 0; i <= HEARTH_CONFIG_PIPELINES_MAX; i++)
        snprintf (text + strlen (text), sizeof text - strlen (text),
                  "  p%d: a\n", i);
    char error[512];
    hearth_config_t *config = hearth_config_load_string (text, "t.yml", error,
                                                         sizeof error);
    CHECK (config == NULL);
    CHECK_STR (error, "t.yml:4:3: more than 256 pipelines");
    hearth_config_destroy (&config);
    strcpy (text, "broker:\n  bind: [");
    for (int i = 0; i <= HEARTH_CONFIG_BINDS_MAX; i++)
        snprintf (text + strlen (text), sizeof text - strlen (text),
                  "%sipc:///tmp/b%d", i ? ", " : "", i);
    strcat (text, "]\nservices:\n  a: {command: [cat]}\n");
    config = hearth_config_load_string (text, "t.yml", error, sizeof error);
    CHECK (config == NULL);
    CHECK_STR (error, "t.yml:2:9: 'bind' must have at most 16 items");
    hearth_config_destroy (&config);
}

static bool
s_only_ab (const char *name, void *arg)
{
    (void) arg;
    return strcmp (name, "a") == 0 || strcmp (name, "b") == 0;
}

static void
test_routes (void)
{
    char error[256];
    CHECK_INT (hearth_config_route_check ("a", s_only_ab, NULL, error,
                                          sizeof error), 0);
    CHECK_INT (hearth_config_route_check (" a , [ a , b ] ,b", s_only_ab, NULL,
                                          error, sizeof error), 0);
    CHECK_INT (hearth_config_route_check ("x,y", NULL, NULL, error,
                                          sizeof error), 0);
    CHECK_INT (hearth_config_route_check ("a,c", s_only_ab, NULL, error,
                                          sizeof error), -1);
    CHECK_STR (error, "unknown service 'c'");
    CHECK_INT (hearth_config_route_check ("", NULL, NULL, error,
                                          sizeof error), -1);
    CHECK_STR (error, "empty service name at ''");
    CHECK_INT (hearth_config_route_check ("a]", NULL, NULL, error,
                                          sizeof error), -1);
    CHECK_STR (error, "expected ',' between stages at ']'");
    CHECK_INT (hearth_config_route_check ("a,mmi.service", NULL, NULL, error,
                                          sizeof error), -1);
    CHECK_STR (error, "service name 'mmi.service' is reserved for the broker "
                      "(mmi., hearth.)");
    char many[256] = "a";
    for (int i = 1; i <= HEARTH_CONFIG_ROUTE_STAGES_MAX; i++)
        strcat (many, ",a");
    CHECK_INT (hearth_config_route_check (many, NULL, NULL, error,
                                          sizeof error), -1);
    CHECK_STR (error, "more than 32 stages");
    CHECK (hearth_config_name_check ("sentiment") == NULL);
    CHECK (hearth_config_name_check ("") != NULL);
}

int
main (void)
{
    RUN (test_deploy_example);
    RUN (test_defaults);
    RUN (test_bad_files);
    RUN (test_bad_texts);
    RUN (test_file_errors);
    RUN (test_routes);
    RUN (test_broker_limits);
    return HEARTH_TEST_RESULT;
}
