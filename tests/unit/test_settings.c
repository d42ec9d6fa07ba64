/*  Unit tests of hearth_settings: a program's settings table gives the
    defaults, range checks, getopt_long options (flag = key with '_' -> '-',
    aliases, short letters), the messages for bad values and --help.       */
#include <stdlib.h>
#include "hearth_broker_settings.h"
#include "hearth_settings.h"
#include "hearth_test.h"
#include "hearth/hearth_proto.h"

typedef struct {
    int wait_ms;
    size_t max_bytes;
    bool quiet;
    const char *label;
    int mode;
    int count;
} s_conf_t;

typedef struct {
    int before;
    s_conf_t conf;                  /* at a non-zero offset: an INCLUDE     */
} s_outer_t;

static const char *const s_modes[] = { "fast", "safe", "slow", NULL };

#define S_FIELD(name) offsetof (s_conf_t, name)

static const hearth_setting_t s_table[] = {
    { .key = "wait_ms", .alias = "wait", .type = HEARTH_SETTING_INT,
      .offset = S_FIELD (wait_ms), .min = 10, .max = 1000, .value = 100,
      .metavar = "MS", .help = "how long to wait" },
    { .key = "max_bytes", .type = HEARTH_SETTING_SIZE,
      .offset = S_FIELD (max_bytes), .min = 1024, .max = 1LL << 40,
      .value = 4096, .metavar = "BYTES", .help = "the most bytes" },
    { .key = "quiet", .type = HEARTH_SETTING_BOOL, .offset = S_FIELD (quiet),
      .help = "say less" },
    { .key = "label", .letter = 'l', .type = HEARTH_SETTING_STRING,
      .offset = S_FIELD (label), .metavar = "TEXT", .help = "a name" },
    { .key = "mode", .type = HEARTH_SETTING_ENUM, .offset = S_FIELD (mode),
      .names = s_modes, .value = 1, .metavar = "MODE", .help = "how" },
    { .key = "count", .letter = 'n', .type = HEARTH_SETTING_INT,
      .offset = S_FIELD (count), .min = 1, .max = 5, .value = 1,
      .metavar = "N", .help = "how many" },
    HEARTH_SETTING_END
};

static const hearth_setting_t s_outer[] = {
    { .key = "before", .type = HEARTH_SETTING_INT,
      .offset = offsetof (s_outer_t, before), .min = 0, .max = 9, .value = 3 },
    { .key = "conf", .type = HEARTH_SETTING_INCLUDE,
      .offset = offsetof (s_outer_t, conf), .table = s_table },
    HEARTH_SETTING_END
};

static void
test_defaults_and_check (void)
{
    s_conf_t conf = { .label = NULL };
    hearth_settings_defaults (s_table, &conf);
    CHECK_INT (conf.wait_ms, 100);
    CHECK_INT (conf.max_bytes, 4096);
    CHECK (!conf.quiet);
    CHECK (conf.label == NULL);
    CHECK_INT (conf.mode, 1);
    CHECK_INT (conf.count, 1);
    CHECK (hearth_settings_check (s_table, &conf) == NULL);
    conf.wait_ms = 9;
    CHECK (hearth_settings_check (s_table, &conf) == &s_table[0]);
    conf.wait_ms = 1000;
    conf.max_bytes = ((size_t) 1 << 40) + 1;
    CHECK (hearth_settings_check (s_table, &conf) == &s_table[1]);

    s_outer_t outer;
    memset (&outer, 0, sizeof outer);
    hearth_settings_defaults (s_outer, &outer);
    CHECK_INT (outer.before, 3);
    CHECK_INT (outer.conf.wait_ms, 100);
    CHECK_INT (outer.conf.mode, 1);
}

static void
test_set_from_text (void)
{
    s_conf_t conf;
    memset (&conf, 0, sizeof conf);
    CHECK_INT (hearth_settings_set (&s_table[0], "50", &conf), 0);
    CHECK_INT (conf.wait_ms, 50);
    CHECK_INT (hearth_settings_set (&s_table[0], "5", &conf), -2);
    CHECK_INT (hearth_settings_set (&s_table[0], "1001", &conf), -2);
    CHECK_INT (hearth_settings_set (&s_table[0], "5x", &conf), -1);
    CHECK_INT (hearth_settings_set (&s_table[0], "", &conf), -1);
    CHECK_INT (conf.wait_ms, 50);
    CHECK_INT (hearth_settings_set (&s_table[1], "1099511627776", &conf), 0);
    CHECK (conf.max_bytes == (size_t) 1 << 40);
    CHECK_INT (hearth_settings_set (&s_table[2], NULL, &conf), 0);
    CHECK (conf.quiet);
    CHECK_INT (hearth_settings_set (&s_table[2], "false", &conf), 0);
    CHECK (!conf.quiet);
    CHECK_INT (hearth_settings_set (&s_table[2], "yes", &conf), -1);
    const char *text = "hello";
    CHECK_INT (hearth_settings_set (&s_table[3], text, &conf), 0);
    CHECK (conf.label == text);         /* kept, not copied                 */
    CHECK_INT (hearth_settings_set (&s_table[4], "slow", &conf), 0);
    CHECK_INT (conf.mode, 2);
    CHECK_INT (hearth_settings_set (&s_table[4], "quick", &conf), -1);
    CHECK_INT (hearth_settings_set (&s_table[4], NULL, &conf), -1);
    CHECK_INT (conf.mode, 2);
}

static void
test_names_and_messages (void)
{
    char text[200];
    hearth_settings_flag (&s_table[0], text, sizeof text);
    CHECK_STR (text, "wait-ms");
    hearth_settings_flag (&s_table[1], text, sizeof text);
    CHECK_STR (text, "max-bytes");
    hearth_settings_names (&s_table[4], text, sizeof text);
    CHECK_STR (text, "fast, safe or slow");
    hearth_settings_default_text (&s_table[0], text, sizeof text);
    CHECK_STR (text, "100");
    hearth_settings_default_text (&s_table[2], text, sizeof text);
    CHECK_STR (text, "false");
    hearth_settings_default_text (&s_table[3], text, sizeof text);
    CHECK_STR (text, "");
    hearth_settings_default_text (&s_table[4], text, sizeof text);
    CHECK_STR (text, "safe");
    hearth_settings_why (&s_table[0], "--wait", "5", text, sizeof text);
    CHECK_STR (text, "--wait needs a whole number from 10 to 1000, not '5'");
    hearth_settings_why (&s_table[4], "'mode'", "quick", text, sizeof text);
    CHECK_STR (text, "'mode' is fast, safe or slow, not 'quick'");
    hearth_settings_why (&s_table[2], "quiet", "yes", text, sizeof text);
    CHECK_STR (text, "quiet is true or false, not 'yes'");

    size_t offset = 0;
    CHECK (hearth_settings_find (s_table, "mode", NULL) == &s_table[4]);
    CHECK (hearth_settings_find (s_table, "wait", NULL) == NULL);
    CHECK (hearth_settings_find (s_outer, "count", &offset) == &s_table[5]);
    CHECK_INT (offset, offsetof (s_outer_t, conf));
    offset = 0;
    CHECK (hearth_settings_find (s_outer, "before", &offset) == &s_outer[0]);
    CHECK_INT (offset, 0);
    CHECK (hearth_settings_find (s_outer, "conf", NULL) == NULL);
}

/*  Parses argv (NULL-terminated) into conf as a program does. Returns 0,
    'h' for the program's own option, or -1 with the message in error.     */
static int
s_parse (char **argv, s_conf_t *conf, char *error, size_t size)
{
    static const struct option extra[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int argc = 0;
    while (argv[argc])
        argc++;
    memset (conf, 0, sizeof *conf);
    hearth_settings_defaults (s_table, conf);
    hearth_settings_getopt_t parser;
    hearth_settings_getopt_init (&parser, s_table, ":h", extra);
    CHECK_STR (parser.shorts, ":hl:n:");
    opterr = 0;
    optind = 0;
    int opt, index = -1;
    while ((opt = getopt_long (argc, argv, parser.shorts, parser.options,
                               &index)) != -1) {
        const hearth_setting_t *setting =
            hearth_settings_getopt_setting (&parser, opt);
        if (!setting)
            return opt == 'h' ? 'h' : -1;
        if (hearth_settings_getopt_apply (&parser, setting, optarg, index,
                                          conf, error, size))
            return -1;
        index = -1;
    }
    return 0;
}

static void
test_getopt (void)
{
    s_conf_t conf;
    char error[200] = "";
    char *good[] = { "prog", "--wait-ms", "50", "--max-bytes=2048", "--quiet",
                     "-l", "hi", "--mode", "slow", "-n", "3", NULL };
    CHECK_INT (s_parse (good, &conf, error, sizeof error), 0);
    CHECK_INT (conf.wait_ms, 50);
    CHECK_INT (conf.max_bytes, 2048);
    CHECK (conf.quiet);
    CHECK_STR (conf.label, "hi");
    CHECK_INT (conf.mode, 2);
    CHECK_INT (conf.count, 3);

    char *alias[] = { "prog", "--wait", "60", "--label", "x", "--count", "5",
                      NULL };
    CHECK_INT (s_parse (alias, &conf, error, sizeof error), 0);
    CHECK_INT (conf.wait_ms, 60);
    CHECK_STR (conf.label, "x");
    CHECK_INT (conf.count, 5);
    CHECK_INT (conf.max_bytes, 4096);           /* default kept             */

    char *help[] = { "prog", "--help", NULL };
    CHECK_INT (s_parse (help, &conf, error, sizeof error), 'h');

    /*  Each bad value is named as the user typed it.                      */
    char *range[] = { "prog", "--wait", "5", NULL };
    CHECK_INT (s_parse (range, &conf, error, sizeof error), -1);
    CHECK_STR (error, "--wait needs a whole number from 10 to 1000, not '5'");
    char *text[] = { "prog", "--wait-ms", "soon", NULL };
    CHECK_INT (s_parse (text, &conf, error, sizeof error), -1);
    CHECK_STR (error, "--wait-ms needs a whole number from 10 to 1000, "
                      "not 'soon'");
    char *letter[] = { "prog", "-n", "9", NULL };
    CHECK_INT (s_parse (letter, &conf, error, sizeof error), -1);
    CHECK_STR (error, "-n needs a whole number from 1 to 5, not '9'");
    char *cluster[] = { "prog", "-n0", NULL };
    CHECK_INT (s_parse (cluster, &conf, error, sizeof error), -1);
    CHECK_STR (error, "-n needs a whole number from 1 to 5, not '0'");
    char *mode[] = { "prog", "--mode=quick", NULL };
    CHECK_INT (s_parse (mode, &conf, error, sizeof error), -1);
    CHECK_STR (error, "--mode is fast, safe or slow, not 'quick'");
    /*  getopt_long takes an unambiguous prefix; the message names the
        setting's full flag then.                                           */
    char *prefix[] = { "prog", "--max-byte", "1", NULL };
    CHECK_INT (s_parse (prefix, &conf, error, sizeof error), -1);
    CHECK_STR (error, "--max-bytes needs a whole number from 1024 to "
                      "1099511627776, not '1'");
}

static void
test_usage (void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    CHECK (out != NULL);
    if (!out)
        return;
    hearth_settings_usage (s_table, 22, out);
    fclose (out);
    CHECK_STR (text,
        "      --wait-ms MS    how long to wait (default 100; also --wait)\n"
        "      --max-bytes BYTES\n"
        "                      the most bytes (default 4096)\n"
        "      --quiet         say less\n"
        "  -l, --label TEXT    a name\n"
        "      --mode MODE     how (default safe)\n"
        "  -n, --count N       how many (default 1)\n");
    free (text);
}

/*  The broker's own table: its defaults are hearth_proto.h's, and a bad
    value is named by its mesh.yml key.                                     */
static void
test_broker_table (void)
{
    hearth_broker_config_t config;
    hearth_settings_defaults (hearth_broker_settings, &config);
    CHECK_INT (config.heartbeat_ms, HEARTH_DEFAULT_HEARTBEAT_MS);
    CHECK_INT (config.liveness, HEARTH_DEFAULT_LIVENESS);
    CHECK_INT (config.queue_max, HEARTH_DEFAULT_QUEUE_MAX);
    CHECK_INT (config.max_message, HEARTH_DEFAULT_MAX_MESSAGE);
    CHECK_INT (config.max_pending_bytes, HEARTH_DEFAULT_MAX_PENDING_BYTES);
    CHECK_INT (config.default_deadline_ms, HEARTH_DEFAULT_DEADLINE_MS);
    CHECK_INT (config.linger_ms, HEARTH_DEFAULT_LINGER_MS);
    CHECK_INT (config.grace_ms, HEARTH_DEFAULT_GRACE_MS);
    CHECK (hearth_broker_settings_check (&config) == NULL);
    config.heartbeat_ms = 9;
    CHECK_STR (hearth_broker_settings_check (&config),
               "heartbeat_ms must be 10 to 3600000");
    config.heartbeat_ms = 10;
    config.max_pending_bytes = config.max_message - 1;
    CHECK_STR (hearth_broker_settings_check (&config),
               "max_pending_bytes must be at least max_message");
    config.max_pending_bytes = config.max_message;
    config.grace_ms = -1;
    CHECK_STR (hearth_broker_settings_check (&config),
               "grace_ms must be 0 to 3600000");
    /*  The options `hearth up`, scripts and tests pass keep working.      */
    const char *aliases[] = { "heartbeat", "default-deadline", "linger",
                              "grace" };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        bool found = false;
        for (const hearth_setting_t *s = hearth_broker_settings; s->key; s++)
            found |= s->alias && strcmp (s->alias, aliases[i]) == 0;
        CHECK (found);
    }
}

int
main (void)
{
    RUN (test_broker_table);
    RUN (test_defaults_and_check);
    RUN (test_set_from_text);
    RUN (test_names_and_messages);
    RUN (test_getopt);
    RUN (test_usage);
    return HEARTH_TEST_RESULT;
}
