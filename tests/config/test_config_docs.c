/*  test_config_docs - the settings tables against the documents that
    describe them.

    schemas/CONFIG.md (sections 3.1 to 3.3) must list every key of the
    mesh.yml loader's tables, which take in the broker's own table, each
    with its default and range, and no key the tables do not have; the
    broker keys must name their hearth-broker option (and its older alias).
    schemas/WORKER.md's option table must do the same for hearth-worker's
    hw_settings[]. Each table must also be sound: keys, options and letters
    unique, defaults within range, a help line for every option.
*/
#include "hearth_config.h"
#include "hearth_settings.h"
#include "hw_options.h"
#include "hearth_test.h"

#include <stdlib.h>

#ifndef TEST_SOURCE_DIR
#   error "TEST_SOURCE_DIR must name the source tree"
#endif

#define S_ROWS_MAX 64
#define S_CELLS_MAX 8

/* ------------------------------------------------------ reading markdown */

static char *
s_read (const char *name)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s", TEST_SOURCE_DIR, name);
    FILE *file = fopen (path, "rb");
    if (!file) {
        HEARTH_TEST_FAIL_AT ("cannot open %s", path);
        return NULL;
    }
    char *text = calloc (1, 1 << 20);
    if (text)
        fread (text, 1, (1 << 20) - 1, file);
    fclose (file);
    return text;
}

/*  One row of a markdown table: its cells, trimmed, each NUL-terminated.  */
typedef struct {
    char cell[S_CELLS_MAX][512];
    int cells;
    bool used;                      /* matched by a row of a table          */
} s_row_t;

typedef struct {
    s_row_t row[S_ROWS_MAX];
    int rows;
} s_doc_table_t;

/*  Reads the table rows whose first cell starts with '`', from the line
    that starts with heading up to the next heading ("#").                  */
static void
s_doc_table (const char *text, const char *heading, s_doc_table_t *table)
{
    memset (table, 0, sizeof *table);
    const char *at = text ? strstr (text, heading) : NULL;
    if (!at) {
        HEARTH_TEST_FAIL_AT ("no section '%s'", heading);
        return;
    }
    at = strchr (at, '\n');
    while (at && *++at && *at != '#') {
        const char *end = strchr (at, '\n');
        size_t length = end ? (size_t) (end - at) : strlen (at);
        if (strncmp (at, "| `", 3) == 0 && table->rows < S_ROWS_MAX) {
            s_row_t *row = &table->row[table->rows++];
            const char *cell = at + 1;
            while (row->cells < S_CELLS_MAX && cell < at + length) {
                const char *bar = memchr (cell, '|', at + length - cell);
                if (!bar)
                    break;
                const char *from = cell, *to = bar;
                while (from < to && *from == ' ')
                    from++;
                while (to > from && to[-1] == ' ')
                    to--;
                snprintf (row->cell[row->cells++], sizeof row->cell[0], "%.*s",
                          (int) (to - from), from);
                cell = bar + 1;
            }
        }
        at = end;
    }
    if (table->rows == 0)
        HEARTH_TEST_FAIL_AT ("no table rows under '%s'", heading);
}

/*  text without its backticks.                                            */
static void
s_plain (const char *text, char *plain, size_t size)
{
    size_t used = 0;
    for (; *text && used + 1 < size; text++)
        if (*text != '`')
            plain[used++] = *text;
    plain[used] = 0;
}

/*  Whether cell holds `word`, in backticks.                               */
static bool
s_names (const char *cell, const char *word)
{
    char quoted[128];
    snprintf (quoted, sizeof quoted, "`%s`", word);
    return strstr (cell, quoted) != NULL;
}

/*  what must read expected for key, named in the message if not.         */
static void
s_expect (const char *where, const char *key, const char *what,
          const char *listed, const char *expected)
{
    hearth_test_checks++;
    if (strcmp (listed, expected) != 0)
        HEARTH_TEST_FAIL_AT ("%s: %s of '%s' is listed as '%s', not '%s'",
                             where, what, key, listed, expected);
}

/* ------------------------------------------------------- the tables    */

/*  The rows of table, its INCLUDEs taken in.                               */
static int
s_rows (const hearth_setting_t *table, const hearth_setting_t **rows, int count)
{
    for (const hearth_setting_t *setting = table; setting->key; setting++)
        if (setting->type == HEARTH_SETTING_INCLUDE)
            count = s_rows (setting->table, rows, count);
        else
        if (count < S_ROWS_MAX)
            rows[count++] = setting;
    return count;
}

/*  Keys, options and letters unique; defaults in range; help for options. */
static void
s_check_sound (const char *name, const hearth_setting_t *table, bool options)
{
    const hearth_setting_t *rows[S_ROWS_MAX];
    int count = s_rows (table, rows, 0);
    for (int i = 0; i < count; i++) {
        const hearth_setting_t *a = rows[i];
        char flag_a[64];
        hearth_settings_flag (a, flag_a, sizeof flag_a);
        for (int j = i + 1; j < count; j++) {
            const hearth_setting_t *b = rows[j];
            char flag_b[64];
            hearth_settings_flag (b, flag_b, sizeof flag_b);
            if (strcmp (a->key, b->key) == 0
            ||  (b->alias && strcmp (flag_a, b->alias) == 0)
            ||  (a->alias && strcmp (a->alias, flag_b) == 0)
            ||  (a->alias && b->alias && strcmp (a->alias, b->alias) == 0)
            ||  (a->letter && a->letter == b->letter))
                HEARTH_TEST_FAIL_AT ("%s: '%s' and '%s' clash", name, a->key,
                                     b->key);
        }
        if ((a->type == HEARTH_SETTING_INT || a->type == HEARTH_SETTING_SIZE)
        &&  (a->value < a->min || a->value > a->max || a->min > a->max))
            HEARTH_TEST_FAIL_AT ("%s: default of '%s' out of its range", name,
                                 a->key);
        if (options && hearth_settings_is_option (a)
        &&  (!a->help || !*a->help))
            HEARTH_TEST_FAIL_AT ("%s: option '%s' has no help line", name,
                                 a->key);
        hearth_test_checks++;
    }
}

/* ------------------------------------------------------------ CONFIG.md */

/*  Each key of table has one row under heading with its default (and, if
    ranged, its range); each row there is a key of table.                   */
static void
s_check_section (const char *text, const char *heading,
                 const hearth_setting_t *table, bool ranged, bool broker)
{
    s_doc_table_t doc;
    s_doc_table (text, heading, &doc);
    const hearth_setting_t *rows[S_ROWS_MAX];
    int count = s_rows (table, rows, 0);
    for (int i = 0; i < count; i++) {
        const hearth_setting_t *setting = rows[i];
        char quoted[128];
        snprintf (quoted, sizeof quoted, "`%s`", setting->key);
        s_row_t *row = NULL;
        for (int r = 0; r < doc.rows; r++)
            if (strcmp (doc.row[r].cell[0], quoted) == 0) {
                if (row)
                    HEARTH_TEST_FAIL_AT ("%s: key '%s' listed twice", heading,
                                         setting->key);
                row = &doc.row[r];
            }
        hearth_test_checks++;
        if (!row) {
            HEARTH_TEST_FAIL_AT ("%s: key '%s' is not listed", heading,
                                 setting->key);
            continue;
        }
        row->used = true;
        if (row->cells < (ranged ? 5 : 4)) {
            HEARTH_TEST_FAIL_AT ("%s: row of '%s' has %d cells", heading,
                                 setting->key, row->cells);
            continue;
        }
        char expected[128], listed[512];
        hearth_settings_default_text (setting, expected, sizeof expected);
        s_plain (row->cell[2], listed, sizeof listed);
        if (*expected)
            s_expect (heading, setting->key, "the default", listed, expected);
        else
        if (!*listed)                   /* "none", "—", what it means       */
            HEARTH_TEST_FAIL_AT ("%s: no default listed for '%s'", heading,
                                 setting->key);
        if (ranged && (setting->type == HEARTH_SETTING_INT
                   ||  setting->type == HEARTH_SETTING_SIZE)) {
            /*  A range may start at another key ("`max_message`–...").    */
            char range[64], max[32];
            snprintf (range, sizeof range, "%lld–%lld", setting->min,
                      setting->max);
            snprintf (max, sizeof max, "%lld", setting->max);
            s_plain (row->cell[3], listed, sizeof listed);
            const char *dash = strstr (row->cell[3], "–");
            if (row->cell[3][0] == '`' && dash)
                s_expect (heading, setting->key, "the maximum",
                          dash + strlen ("–"), max);
            else
                s_expect (heading, setting->key, "the range", listed, range);
        }
        /*  A small section lists its keys in place ("map: `input`, ...");
            a big one points at its own section, checked by its own call.  */
        if (setting->type == HEARTH_SETTING_SECTION
        &&  strncmp (row->cell[1], "map:", 4) == 0)
            for (const hearth_setting_t *key = setting->table; key->key; key++)
                if (!s_names (row->cell[1], key->key))
                    HEARTH_TEST_FAIL_AT ("%s: '%s' does not list its key '%s'",
                                         heading, setting->key, key->key);
        if (broker && hearth_settings_is_option (setting)) {
            char flag[64], option[80];
            hearth_settings_flag (setting, flag, sizeof flag);
            snprintf (option, sizeof option, "--%s", flag);
            if (!s_names (row->cell[ranged ? 4 : 3], option))
                HEARTH_TEST_FAIL_AT ("%s: '%s' does not name its option %s",
                                     heading, setting->key, option);
            snprintf (option, sizeof option, "--%s", setting->alias);
            if (setting->alias && !s_names (row->cell[ranged ? 4 : 3], option))
                HEARTH_TEST_FAIL_AT ("%s: '%s' does not name its older option "
                                     "%s", heading, setting->key, option);
        }
    }
    for (int r = 0; r < doc.rows; r++) {
        hearth_test_checks++;
        if (!doc.row[r].used)
            HEARTH_TEST_FAIL_AT ("%s: %s is listed but is no key of the "
                                 "table", heading, doc.row[r].cell[0]);
    }
}

static void
test_config_md_lists_every_key (void)
{
    char *text = s_read ("schemas/CONFIG.md");
    const hearth_setting_t *broker = hearth_settings_find (hearth_config_keys,
                                                           "broker", NULL);
    CHECK (broker && broker->table);
    s_check_section (text, "### 3.1 Top level", hearth_config_keys, false,
                     false);
    if (broker && broker->table)
        s_check_section (text, "### 3.2 `broker`", broker->table, true, true);
    s_check_section (text, "### 3.3 `services`", hearth_config_service_keys,
                     true, false);
    free (text);
}

/* ------------------------------------------------------------ WORKER.md */

/*  hearth-worker's own options, which are not settings of a service.      */
static const char *const s_worker_plumbing[] = {
    "-s", "--service", "-b", "--broker", NULL
};

/*  Whether option ("-n", "--timeout") is one of hw_settings[] or plumbing. */
static bool
s_worker_knows (const char *option)
{
    for (int i = 0; s_worker_plumbing[i]; i++)
        if (strcmp (option, s_worker_plumbing[i]) == 0)
            return true;
    for (const hearth_setting_t *s = hw_settings; s->key; s++) {
        char flag[64];
        hearth_settings_flag (s, flag, sizeof flag);
        if ((option[1] == '-' && (strcmp (option + 2, flag) == 0
        ||   (s->alias && strcmp (option + 2, s->alias) == 0)))
        ||  (option[1] != '-' && s->letter && option[1] == s->letter
        &&   !option[2]))
            return true;
    }
    return false;
}

static void
test_worker_md_lists_every_option (void)
{
    char *text = s_read ("schemas/WORKER.md");
    s_doc_table_t doc;
    s_doc_table (text, "| option | default | meaning |", &doc);
    for (const hearth_setting_t *setting = hw_settings; setting->key;
         setting++) {
        char flag[64], option[80];
        hearth_settings_flag (setting, flag, sizeof flag);
        snprintf (option, sizeof option, "--%s", flag);
        s_row_t *row = NULL;
        for (int r = 0; r < doc.rows; r++)
            if (s_names (doc.row[r].cell[0], option))
                row = &doc.row[r];
        hearth_test_checks++;
        if (!row || row->cells < 2) {
            HEARTH_TEST_FAIL_AT ("WORKER.md: %s is not listed", option);
            continue;
        }
        char other[80] = "";
        if (setting->alias)
            snprintf (other, sizeof other, "--%s", setting->alias);
        if (*other && !s_names (row->cell[0], other))
            HEARTH_TEST_FAIL_AT ("WORKER.md: %s does not name %s too", option,
                                 other);
        if (setting->letter)
            snprintf (other, sizeof other, "-%c", setting->letter);
        if (setting->letter && !s_names (row->cell[0], other))
            HEARTH_TEST_FAIL_AT ("WORKER.md: %s does not name %s too", option,
                                 other);
        char expected[128], listed[512];
        hearth_settings_default_text (setting, expected, sizeof expected);
        s_plain (row->cell[1], listed, sizeof listed);
        s_expect ("WORKER.md", option, "the default", listed,
                  setting->type == HEARTH_SETTING_BOOL
                  ? (setting->value ? "on" : "off")
                  : *expected ? expected : "none");
    }
    /*  Every option the table lists is one hearth-worker has.             */
    for (int r = 0; r < doc.rows; r++)
        for (const char *at = doc.row[r].cell[0]; (at = strchr (at, '`'));) {
            const char *end = strchr (at + 1, '`');
            if (!end)
                break;
            char option[80];
            snprintf (option, sizeof option, "%.*s", (int) (end - at - 1),
                      at + 1);
            hearth_test_checks++;
            if (!s_worker_knows (option))
                HEARTH_TEST_FAIL_AT ("WORKER.md lists %s, which hearth-worker "
                                     "does not have", option);
            at = end + 1;
        }
    free (text);
}

static void
test_tables_are_sound (void)
{
    s_check_sound ("hearth_broker_settings", hearth_broker_settings, true);
    s_check_sound ("mesh.yml top level", hearth_config_keys, false);
    const hearth_setting_t *broker = hearth_settings_find (hearth_config_keys,
                                                           "broker", NULL);
    if (broker)
        s_check_sound ("mesh.yml broker", broker->table, false);
    s_check_sound ("mesh.yml service", hearth_config_service_keys, false);
    s_check_sound ("hw_settings", hw_settings, true);
}

int
main (void)
{
    RUN (test_tables_are_sound);
    RUN (test_config_md_lists_every_key);
    RUN (test_worker_md_lists_every_option);
    return HEARTH_TEST_RESULT;
}
