/*  hearth_route_expr - the route-expression parser. See hearth_route_expr.h. */
#include "hearth_route_expr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hearth/hearth_proto.h"

const char *
hearth_route_expr_name_check (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len > HEARTH_SERVICE_MAX)
        return "must be 1 to 255 bytes";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) name[i];
        if (c <= ' ' || c == 0x7f || strchr (",[]", c))
            return "must not contain spaces, control characters, ',', '[' "
                   "or ']'";
    }
    if (strncmp (name, HEARTH_MMI_PREFIX, strlen (HEARTH_MMI_PREFIX)) == 0
    ||  strncmp (name, HEARTH_INTERNAL_PREFIX, strlen (HEARTH_INTERNAL_PREFIX)) == 0)
        return "is reserved for the broker (mmi., hearth.)";
    return NULL;
}

bool
hearth_route_expr_is_expression (const char *text)
{
    return strpbrk (text, ",[]") != NULL;
}

void
hearth_route_expr_free (hearth_route_expr_t *route)
{
    free (route->buffer);
    free (route->name);
    route->buffer = NULL;
    route->name = NULL;
    route->name_count = route->stage_count = 0;
}

static int
s_error (char *error, size_t size, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_error (char *error, size_t size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (error, size, format, args);
    va_end (args);
    return -1;
}

/*  Takes the name at *cursor (spaces around it skipped), NUL-terminating
    it in place: the cursor walks the route's own copy of the text.         */
static int
s_name (hearth_route_expr_t *route, char **cursor, char *error, size_t size)
{
    char *p = *cursor;
    while (*p == ' ')
        p++;
    size_t len = strcspn (p, ",[] ");
    if (len == 0)
        return s_error (error, size, *p == '[' ? "groups cannot be nested"
                                               : "empty service name at '%.20s'", p);
    if (len > HEARTH_SERVICE_MAX)
        return s_error (error, size, "service name longer than %d bytes",
                        HEARTH_SERVICE_MAX);
    char *name = p;
    p += len;
    char next = *p;
    *p = 0;
    const char *invalid = hearth_route_expr_name_check (name);
    if (invalid)
        return s_error (error, size, "service name '%s' %s", name, invalid);
    route->name[route->name_count++] = name;
    /*  The terminator overwrote `next`: keep reading from it.             */
    *p = next;
    if (next == ' ') {
        *p++ = 0;
        while (*p == ' ')
            p++;
    }
    *cursor = p;
    return 0;
}

static int
s_parse (hearth_route_expr_t *route, char *p, char *error, size_t size)
{
    while (true) {
        if (route->stage_count == HEARTH_ROUTE_STAGES_MAX)
            return s_error (error, size, "more than %d stages",
                            HEARTH_ROUTE_STAGES_MAX);
        route->first[route->stage_count] = route->name_count;
        while (*p == ' ')
            p++;
        int group = *p == '[';
        p += group;
        for (int members = 1; ; members++) {
            if (members > HEARTH_ROUTE_GROUP_MAX)
                return s_error (error, size, "a group has more than %d services",
                                HEARTH_ROUTE_GROUP_MAX);
            if (s_name (route, &p, error, size))
                return -1;
            if (!group || *p != ',')
                break;
            *p++ = 0;
        }
        if (group && *p != ']')
            return s_error (error, size, "group not closed with ']'");
        if (group)
            *p++ = 0;
        route->first[++route->stage_count] = route->name_count;
        while (*p == ' ')
            p++;
        if (*p == 0)
            return 0;
        if (*p != ',')
            return s_error (error, size, "expected ',' between stages at '%.20s'", p);
        *p++ = 0;
    }
}

int
hearth_route_expr_parse (const char *text, hearth_route_expr_t *route, char *error,
                    size_t size)
{
    memset (route, 0, sizeof *route);
    /*  At most one name per byte of text, and never more than the bounds. */
    size_t most = strlen (text) + 1;
    size_t bound = HEARTH_ROUTE_STAGES_MAX * HEARTH_ROUTE_GROUP_MAX;
    route->buffer = strdup (text);
    route->name = calloc (most < bound ? most : bound, sizeof *route->name);
    if (!route->buffer || !route->name)
        return s_error (error, size, "out of memory");
    /*  Names are terminated in place, so error texts quoting the rest of
        the route are taken before that part is cut (s_name, s_parse).     */
    return s_parse (route, route->buffer, error, size);
}
