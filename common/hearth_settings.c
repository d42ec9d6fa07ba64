/*  hearth_settings - one table of settings per program. */
#include "hearth_settings.h"
#include "hearth_number.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

bool
hearth_settings_is_option (const hearth_setting_t *setting)
{
    return setting->type == HEARTH_SETTING_INT
        || setting->type == HEARTH_SETTING_SIZE
        || setting->type == HEARTH_SETTING_BOOL
        || setting->type == HEARTH_SETTING_STRING
        || setting->type == HEARTH_SETTING_ENUM;
}

static long long
s_get (const hearth_setting_t *setting, const void *base)
{
    const void *field = (const char *) base + setting->offset;
    if (setting->type == HEARTH_SETTING_SIZE)
        return *(const size_t *) field > (size_t) INT64_MAX
             ? INT64_MAX : (long long) *(const size_t *) field;
    return *(const int *) field;
}

/*  Stores a number already known to be in range.                          */
static void
s_put (const hearth_setting_t *setting, long long value, void *base)
{
    void *field = (char *) base + setting->offset;
    switch (setting->type) {
        case HEARTH_SETTING_INT:
        case HEARTH_SETTING_ENUM: *(int *) field = (int) value; break;
        case HEARTH_SETTING_SIZE: *(size_t *) field = (size_t) value; break;
        case HEARTH_SETTING_BOOL: *(bool *) field = value != 0; break;
        default: assert (!"not a number setting");
    }
}

void
hearth_settings_defaults (const hearth_setting_t *table, void *base)
{
    for (const hearth_setting_t *setting = table; setting->key; setting++)
        if (setting->type == HEARTH_SETTING_SECTION
        ||  setting->type == HEARTH_SETTING_INCLUDE)
            hearth_settings_defaults (setting->table,
                                      (char *) base + setting->offset);
        else
        if (setting->type != HEARTH_SETTING_STRING
        &&  hearth_settings_is_option (setting))
            s_put (setting, setting->value, base);
}

const hearth_setting_t *
hearth_settings_check (const hearth_setting_t *table, const void *base)
{
    for (const hearth_setting_t *setting = table; setting->key; setting++)
        if (setting->type == HEARTH_SETTING_INT
        ||  setting->type == HEARTH_SETTING_SIZE) {
            long long value = s_get (setting, base);
            if (value < setting->min || value > setting->max)
                return setting;
        }
    return NULL;
}

const hearth_setting_t *
hearth_settings_find (const hearth_setting_t *table, const char *key,
                      size_t *offset)
{
    for (const hearth_setting_t *setting = table; setting->key; setting++)
        if (setting->type == HEARTH_SETTING_INCLUDE) {
            const hearth_setting_t *found =
                hearth_settings_find (setting->table, key, offset);
            if (found) {
                if (offset)
                    *offset += setting->offset;
                return found;
            }
        }
        else
        if (strcmp (setting->key, key) == 0)
            return setting;
    return NULL;
}

int
hearth_settings_set (const hearth_setting_t *setting, const char *text,
                     void *base)
{
    long long value;
    switch (setting->type) {
        case HEARTH_SETTING_INT:
        case HEARTH_SETTING_SIZE: {
            int rc = hearth_number_parse (text, setting->min, setting->max,
                                          &value);
            if (rc)
                return rc;
            break;
        }
        case HEARTH_SETTING_BOOL:
            if (!text || strcmp (text, "true") == 0)
                value = 1;
            else
            if (strcmp (text, "false") == 0)
                value = 0;
            else
                return -1;
            break;
        case HEARTH_SETTING_ENUM:
            for (value = 0; text && setting->names[value]; value++)
                if (strcmp (setting->names[value], text) == 0)
                    break;
            if (!text || !setting->names[value])
                return -1;
            break;
        case HEARTH_SETTING_STRING:
            *(const char **) ((char *) base + setting->offset) = text;
            return 0;
        default:
            assert (!"not a scalar setting");
            return -1;
    }
    s_put (setting, value, base);
    return 0;
}

void
hearth_settings_names (const hearth_setting_t *setting, char *text, size_t size)
{
    size_t used = 0;
    text[0] = 0;
    for (int i = 0; setting->names[i] && used < size; i++) {
        const char *joint = i == 0 ? "" : setting->names[i + 1] ? ", " : " or ";
        int n = snprintf (text + used, size - used, "%s%s", joint,
                          setting->names[i]);
        used += n > 0 ? (size_t) n : 0;
    }
}

void
hearth_settings_why (const hearth_setting_t *setting, const char *name,
                     const char *text, char *error, size_t size)
{
    if (size == 0)
        return;
    char names[160];
    switch (setting->type) {
        case HEARTH_SETTING_INT:
        case HEARTH_SETTING_SIZE:
            snprintf (error, size, "%s needs a whole number from %lld to %lld, "
                      "not '%s'", name, setting->min, setting->max, text);
            break;
        case HEARTH_SETTING_BOOL:
            snprintf (error, size, "%s is true or false, not '%s'", name, text);
            break;
        case HEARTH_SETTING_ENUM:
            hearth_settings_names (setting, names, sizeof names);
            snprintf (error, size, "%s is %s, not '%s'", name, names, text);
            break;
        default:
            snprintf (error, size, "%s: bad value '%s'", name, text);
    }
}

void
hearth_settings_flag (const hearth_setting_t *setting, char *flag, size_t size)
{
    snprintf (flag, size, "%s", setting->key);
    for (char *c = flag; *c; c++)
        if (*c == '_')
            *c = '-';
}

void
hearth_settings_default_text (const hearth_setting_t *setting, char *text,
                              size_t size)
{
    switch (setting->type) {
        case HEARTH_SETTING_INT:
        case HEARTH_SETTING_SIZE:
            snprintf (text, size, "%lld", setting->value);
            break;
        case HEARTH_SETTING_BOOL:
            snprintf (text, size, "%s", setting->value ? "true" : "false");
            break;
        case HEARTH_SETTING_ENUM:
            snprintf (text, size, "%s", setting->names[setting->value]);
            break;
        case HEARTH_SETTING_LIST:
            snprintf (text, size, setting->text ? "[%s]" : "%s",
                      setting->text ? setting->text : "");
            break;
        default:
            snprintf (text, size, "%s", "");
    }
}

void
hearth_settings_value_text (const hearth_setting_t *setting, const void *base,
                            char *text, size_t size)
{
    const void *field = (const char *) base + setting->offset;
    switch (setting->type) {
        case HEARTH_SETTING_INT:
        case HEARTH_SETTING_SIZE:
            snprintf (text, size, "%lld", s_get (setting, base));
            break;
        case HEARTH_SETTING_BOOL:
            snprintf (text, size, "%s", *(const bool *) field ? "true" : "false");
            break;
        case HEARTH_SETTING_ENUM:
            snprintf (text, size, "%s", setting->names[*(const int *) field]);
            break;
        default:
            assert (!"not a scalar setting");
            snprintf (text, size, "%s", "");
    }
}

/*  Joins words that must stay on one line ("(default 1000)") when
    s_wrap breaks a help line.                                              */
#define S_NBSP '\x01'

/*  Prints words from column at, wrapping at 79 to column indent.          */
static void
s_wrap (FILE *out, const char *words, int at, int indent)
{
    while (*words) {
        while (*words == ' ')
            words++;
        int length = (int) strcspn (words, " ");
        if (at > indent && at + 1 + length > 79) {
            fprintf (out, "\n%*s", indent, "");
            at = indent;
        }
        else
        if (at > indent) {
            fputc (' ', out);
            at++;
        }
        for (int i = 0; i < length; i++)
            fputc (words[i] == S_NBSP ? ' ' : words[i], out);
        at += length;
        words += length;
    }
    fputc ('\n', out);
}

void
hearth_settings_usage (const hearth_setting_t *table, int indent, FILE *out)
{
    for (const hearth_setting_t *setting = table; setting->key; setting++) {
        if (!hearth_settings_is_option (setting))
            continue;
        char flag[HEARTH_SETTINGS_FLAG_MAX], left[128], help[400], value[64];
        hearth_settings_flag (setting, flag, sizeof flag);
        const char *metavar = setting->type == HEARTH_SETTING_BOOL ? ""
                            : setting->metavar ? setting->metavar : "VALUE";
        char letter[8] = "    ";
        if (setting->letter)
            snprintf (letter, sizeof letter, "-%c, ", setting->letter);
        snprintf (left, sizeof left, "  %s--%s%s%s", letter, flag,
                  *metavar ? " " : "", metavar);
        int used = snprintf (help, sizeof help, "%s", setting->help);
        hearth_settings_default_text (setting, value, sizeof value);
        if (*value && setting->type != HEARTH_SETTING_BOOL)
            used += snprintf (help + used, sizeof help - used,
                              " (default%c%s%s", S_NBSP, value,
                              setting->alias ? ";" : ")");
        if (setting->alias)
            snprintf (help + used, sizeof help - used, "%salso%c--%s)",
                      *value && setting->type != HEARTH_SETTING_BOOL
                      ? " " : " (", S_NBSP, setting->alias);
        fputs (left, out);
        int at = (int) strlen (left);
        if (at + 1 > indent) {
            fputc ('\n', out);
            at = 0;
        }
        fprintf (out, "%*s", indent - at, "");
        s_wrap (out, help, indent, indent);
    }
}

/* ----------------------------------------------------- getopt_long glue */

static void
s_add (hearth_settings_getopt_t *self, size_t *count, const char *name,
       int has_arg, int val)
{
    assert (*count < HEARTH_SETTINGS_OPTIONS_MAX);
    self->options[(*count)++] = (struct option) { name, has_arg, NULL, val };
}

void
hearth_settings_getopt_init (hearth_settings_getopt_t *self,
                             const hearth_setting_t *table,
                             const char *shorts, const struct option *extra)
{
    memset (self, 0, sizeof *self);
    self->table = table;
    size_t count = 0, letters = 0;
    if (shorts) {
        assert (strlen (shorts) < sizeof self->shorts);
        letters = strlen (shorts);
        memcpy (self->shorts, shorts, letters);
    }
    for (const struct option *option = extra; option && option->name; option++)
        s_add (self, &count, option->name, option->has_arg, option->val);
    for (const hearth_setting_t *setting = table; setting->key; setting++) {
        if (!hearth_settings_is_option (setting))
            continue;
        int has_arg = setting->type == HEARTH_SETTING_BOOL ? no_argument
                                                           : required_argument;
        int val = setting->letter ? setting->letter
                : HEARTH_SETTINGS_OPT + (int) (setting - table);
        assert (count < HEARTH_SETTINGS_OPTIONS_MAX);
        char *flag = self->flags[count];
        hearth_settings_flag (setting, flag, HEARTH_SETTINGS_FLAG_MAX);
        s_add (self, &count, flag, has_arg, val);
        if (setting->alias)
            s_add (self, &count, setting->alias, has_arg, val);
        if (setting->letter) {
            assert (letters + 2 < sizeof self->shorts);
            self->shorts[letters++] = (char) setting->letter;
            if (has_arg == required_argument)
                self->shorts[letters++] = ':';
        }
    }
}

const hearth_setting_t *
hearth_settings_getopt_setting (const hearth_settings_getopt_t *self, int opt)
{
    for (const hearth_setting_t *setting = self->table; setting->key; setting++)
        if (hearth_settings_is_option (setting)
        &&  (setting->letter ? opt == setting->letter
                             : opt == HEARTH_SETTINGS_OPT
                                      + (int) (setting - self->table)))
            return setting;
    return NULL;
}

int
hearth_settings_getopt_apply (const hearth_settings_getopt_t *self,
                              const hearth_setting_t *setting, const char *arg,
                              int index, void *base, char *error, size_t size)
{
    if (hearth_settings_set (setting, arg, base) == 0)
        return 0;
    char name[HEARTH_SETTINGS_FLAG_MAX + 2];
    if (index >= 0 && self->options[index].name)
        snprintf (name, sizeof name, "--%s", self->options[index].name);
    else
        snprintf (name, sizeof name, "-%c", setting->letter);
    hearth_settings_why (setting, name, arg, error, size);
    return -1;
}
