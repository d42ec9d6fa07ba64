/*  hearth_settings - a program's settings as one table (redis's config.c
    static_configs[] is the model).

    Each row declares one setting once: its mesh.yml key, the long option
    (always the key with '_' -> '-'; an older spelling may be kept as an
    alias), an optional short letter, its type and range, its default and
    the help line. From the table come the defaults, the range checks, the
    getopt_long options, the --help lines, the mesh.yml keys of a section
    and the test that the schemas list every key with its default. Adding
    a setting is one row.

    A row points at its field by offset into the program's own struct, so
    one module serves the broker, hearth-worker, `hearth up` and the
    mesh.yml loader, each with its own struct.
*/
#ifndef HEARTH_SETTINGS_H_INCLUDED
#define HEARTH_SETTINGS_H_INCLUDED

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*  INT to ENUM are command-line options as well as mesh.yml values
    (hearth_settings_is_option); the rest are mesh.yml structure only.      */
typedef enum {
    HEARTH_SETTING_INT,         /* int in [min, max]                         */
    HEARTH_SETTING_SIZE,        /* size_t in [min, max]                      */
    HEARTH_SETTING_BOOL,        /* bool; an option without argument that
                                   sets it, `true` or `false` in mesh.yml    */
    HEARTH_SETTING_STRING,      /* char *: an option keeps a pointer into
                                   argv, the mesh.yml loader a copy it owns  */
    HEARTH_SETTING_ENUM,        /* an enum whose values are the indexes of
                                   names[] ("line", "length")                */
    HEARTH_SETTING_LIST,        /* mesh.yml only: a non-empty list of
                                   strings (hearth_config_argv_t), at most
                                   max items (0: any number)                 */
    HEARTH_SETTING_SECTION,     /* mesh.yml only: a nested map whose keys are
                                   table, its fields at offset in the struct */
    HEARTH_SETTING_INCLUDE,     /* mesh.yml only: table's keys are this
                                   section's too, its fields at offset (the
                                   broker section is bind plus
                                   hearth_broker_settings[])                 */
    HEARTH_SETTING_SPECIAL      /* mesh.yml only: read by the loader itself
                                   (services, pipelines)                     */
} hearth_setting_type_t;

typedef struct hearth_setting_t {
    const char *key;            /* mesh.yml key, or the setting's name for a
                                   program that reads no file; the long
                                   option is it with '_' -> '-'. NULL ends
                                   a table                                   */
    const char *alias;          /* an older long option still accepted       */
    int letter;                 /* short option, or 0                        */
    hearth_setting_type_t type;
    size_t offset;              /* of the field in the program's struct      */
    long long min, max;         /* INT, SIZE; LIST: most items               */
    long long value;            /* default of INT, SIZE, BOOL, ENUM          */
    const char *text;           /* default of a LIST (its one item)          */
    const char *const *names;   /* ENUM: the names, NULL-terminated          */
    const char *metavar;        /* the argument in --help: "MS", "N"         */
    const char *help;           /* one line for --help                       */
    const struct hearth_setting_t *table;   /* SECTION, INCLUDE              */
} hearth_setting_t;

/*  Rows are written with designated initializers, so each says what it
    sets; this ends a table.                                                 */
#define HEARTH_SETTING_END { .key = NULL }

/*  Upper bounds that several time settings share.                         */
#define HEARTH_SETTINGS_HOUR_MS 3600000LL
#define HEARTH_SETTINGS_DAY_MS  86400000LL

/*  Sets every INT, SIZE, BOOL and ENUM of table (and of its sections and
    includes) to its default in the struct at base. Strings and lists are
    left alone: the caller's struct starts zeroed, and the loader makes its
    own copies.                                                             */
void hearth_settings_defaults (const hearth_setting_t *table, void *base);

/*  Whether setting is a command-line option (INT to ENUM).                */
bool hearth_settings_is_option (const hearth_setting_t *setting);

/*  The first INT or SIZE of table whose value at base is out of its
    range, or NULL if all are within.                                       */
const hearth_setting_t *hearth_settings_check (const hearth_setting_t *table,
                                               const void *base);

/*  The row of table (or of a table it includes) whose key is key, or
    NULL. If offset is not NULL, adds to it where the row's struct starts
    in table's (the offsets of the INCLUDE rows passed through).           */
const hearth_setting_t *hearth_settings_find (const hearth_setting_t *table,
                                              const char *key, size_t *offset);

/*  Writes an ENUM's names as "a or b", "a, b or c".                        */
void hearth_settings_names (const hearth_setting_t *setting, char *text,
                            size_t size);

/*  Parses text as the value of setting into the struct at base: a whole
    decimal number in range (INT, SIZE), one of names (ENUM), true or false
    (BOOL; NULL text, as for an option without argument, means true), or
    any text (STRING: the pointer is stored, so text must outlive base).
    Returns 0; -1 if text is not a value of that type; -2 if a number is
    out of range. Misuse (LIST, SECTION, SPECIAL) asserts.                  */
int hearth_settings_set (const hearth_setting_t *setting, const char *text,
                         void *base);

/*  Writes why text is not a value of setting, naming it as name (an option
    as the user typed it, or a key), e.g. "--heartbeat-ms needs a whole
    number from 10 to 3600000, not '5'", "--framing is line or length, not
    'x'". Always NUL-terminated when size > 0.                              */
void hearth_settings_why (const hearth_setting_t *setting, const char *name,
                          const char *text, char *error, size_t size);

/*  Writes the long option of setting without its dashes: the key with
    '_' -> '-'.                                                             */
void hearth_settings_flag (const hearth_setting_t *setting, char *flag,
                           size_t size);

/*  Writes the default of setting as mesh.yml and --help show it: "1000",
    "false", "line", "[tcp://127.0.0.1:5555]"; "" if it has none (strings,
    lists without one, sections).                                           */
void hearth_settings_default_text (const hearth_setting_t *setting,
                                   char *text, size_t size);

/*  Writes the value of a scalar setting (INT, SIZE, BOOL, ENUM) in the
    struct at base as its option takes it: "1000", "true", "line".          */
void hearth_settings_value_text (const hearth_setting_t *setting,
                                 const void *base, char *text, size_t size);

/*  Prints one --help line per command-line setting of table (not LIST,
    SECTION or SPECIAL): "  -n, --processes N  help (default 1)", the help
    in a column at indent (wrapped at 79), aliases named.                  */
void hearth_settings_usage (const hearth_setting_t *table, int indent,
                            FILE *out);

/* ----------------------------------------------------- getopt_long glue */

#define HEARTH_SETTINGS_OPTIONS_MAX 48
#define HEARTH_SETTINGS_FLAG_MAX    40
/*  getopt_long returns this plus the row's index for a long-only setting,
    the row's letter for one with a short option.                           */
#define HEARTH_SETTINGS_OPT         0x4000

typedef struct {
    const hearth_setting_t *table;
    struct option options[HEARTH_SETTINGS_OPTIONS_MAX + 1];
    char flags[HEARTH_SETTINGS_OPTIONS_MAX][HEARTH_SETTINGS_FLAG_MAX];
    char shorts[2 * HEARTH_SETTINGS_OPTIONS_MAX + 8];
} hearth_settings_getopt_t;

/*  Fills self for getopt_long (self->shorts, self->options): first the
    program's own short option string and options (extra, ended by a NULL
    name; either may be NULL), then each command-line setting of table
    under its flag and alias, with its letter. Asserts if they do not fit.  */
void hearth_settings_getopt_init (hearth_settings_getopt_t *self,
                                  const hearth_setting_t *table,
                                  const char *shorts,
                                  const struct option *extra);

/*  The setting that getopt_long's return value opt stands for, or NULL if
    it is one of the program's own options.                                 */
const hearth_setting_t *
hearth_settings_getopt_setting (const hearth_settings_getopt_t *self, int opt);

/*  Applies setting from the option getopt_long just returned: arg is its
    optarg, index its longindex (set it to -1 before each call, so a short
    option is named as "-n"). Returns 0, or -1 with "OPTION needs ...,
    not 'TEXT'" in error.                                                   */
int hearth_settings_getopt_apply (const hearth_settings_getopt_t *self,
                                  const hearth_setting_t *setting,
                                  const char *arg, int index, void *base,
                                  char *error, size_t size);

#endif
