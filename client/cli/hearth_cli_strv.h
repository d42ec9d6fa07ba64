/*  hearth_cli_strv - NULL-terminated lists of malloc'd strings, the shape
    execve takes argv and the environment in: built up by `hearth up`'s
    plan, copied and freed by the supervisor.

    A builder's first failure (out of memory) sticks, so a caller adds
    freely and checks once at the end.
*/
#ifndef HEARTH_CLI_STRV_H_INCLUDED
#define HEARTH_CLI_STRV_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char **items;               /* NULL-terminated, or NULL while empty     */
    size_t count, max;
    bool failed;                /* an add ran out of memory                 */
} hearth_cli_strv_t;

/*  Adds a copy of text.                                                    */
void hearth_cli_strv_add (hearth_cli_strv_t *self, const char *text);

/*  Adds a formatted string.                                                */
void hearth_cli_strv_addf (hearth_cli_strv_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

/*  Adds an option and its value as two arguments, which every getopt and
    argparse parser reads alike.                                             */
void hearth_cli_strv_option (hearth_cli_strv_t *self, const char *option,
                             const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

/*  Frees what the builder holds and empties it.                            */
void hearth_cli_strv_reset (hearth_cli_strv_t *self);

/*  Copies a NULL-terminated list into *copy_p (caller owns it; NULL stays
    NULL). Returns 0, or -1 out of memory (*copy_p NULL).                    */
int hearth_cli_strv_dup (char *const *source, char ***copy_p);

/*  Frees a NULL-terminated list and its strings; NULLs *strv_p.
    Idempotent.                                                              */
void hearth_cli_strv_free (char ***strv_p);

#endif
