/*  hearth_cli_strv - string lists for execve. See the header.             */
#define _GNU_SOURCE                 /* vasprintf                            */
#include "hearth_cli_strv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  Appends text, which the list then owns (freed here on failure).        */
static void
s_take (hearth_cli_strv_t *self, char *text)
{
    if (!text || self->failed) {
        self->failed = true;
        free (text);
        return;
    }
    if (self->count + 1 >= self->max) {
        size_t max = self->max ? self->max * 2 : 16;
        char **bigger = realloc (self->items, max * sizeof *bigger);
        if (!bigger) {
            self->failed = true;
            free (text);
            return;
        }
        self->items = bigger;
        self->max = max;
    }
    self->items[self->count++] = text;
    self->items[self->count] = NULL;
}

static void
s_vaddf (hearth_cli_strv_t *self, const char *format, va_list args)
{
    char *text = NULL;
    if (vasprintf (&text, format, args) < 0)
        text = NULL;
    s_take (self, text);
}

void
hearth_cli_strv_add (hearth_cli_strv_t *self, const char *text)
{
    s_take (self, strdup (text));
}

void
hearth_cli_strv_addf (hearth_cli_strv_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_vaddf (self, format, args);
    va_end (args);
}

void
hearth_cli_strv_option (hearth_cli_strv_t *self, const char *option,
                        const char *format, ...)
{
    hearth_cli_strv_add (self, option);
    va_list args;
    va_start (args, format);
    s_vaddf (self, format, args);
    va_end (args);
}

void
hearth_cli_strv_reset (hearth_cli_strv_t *self)
{
    hearth_cli_strv_free (&self->items);
    memset (self, 0, sizeof *self);
}

int
hearth_cli_strv_dup (char *const *source, char ***copy_p)
{
    *copy_p = NULL;
    if (!source)
        return 0;
    size_t count = 0;
    while (source[count])
        count++;
    char **copy = calloc (count + 1, sizeof *copy);
    for (size_t i = 0; copy && i < count; i++)
        if (!(copy[i] = strdup (source[i]))) {
            hearth_cli_strv_free (&copy);
            return -1;
        }
    *copy_p = copy;
    return copy ? 0 : -1;
}

void
hearth_cli_strv_free (char ***strv_p)
{
    char **strv = *strv_p;
    for (size_t i = 0; strv && strv[i]; i++)
        free (strv[i]);
    free (strv);
    *strv_p = NULL;
}
