/*  hearth_route_expr - the route-expression parser: route expressions
    ("a,b,[c,d],e") and the service names that may stand in them,
    one grammar for the broker, the config loader and the CLI.
    The grammar is schemas/PROTOCOL.md section 11.
*/
#ifndef HEARTH_ROUTE_EXPR_H_INCLUDED
#define HEARTH_ROUTE_EXPR_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define HEARTH_ROUTE_STAGES_MAX 32
#define HEARTH_ROUTE_GROUP_MAX  16

/*  A parsed route. The names point into one owned copy of the text.       */
typedef struct {
    char *buffer;                               /* names, NUL-separated     */
    const char **name;                          /* every stage's names      */
    int name_count;
    int stage_count;
    int first[HEARTH_ROUTE_STAGES_MAX + 1];     /* stage s: names
                                                   first[s] .. first[s+1]-1 */
} hearth_route_expr_t;

/*  NULL if name may be registered as a service or pipeline, else why not
    ("must not contain spaces, ..."): 1 to 255 bytes, no spaces, control
    characters, ',' '[' ']', and not reserved for the broker.              */
const char *hearth_route_expr_name_check (const char *name);

/*  True if text is a route expression rather than one service name.       */
bool hearth_route_expr_is_expression (const char *text);

/*  Parses text into route (caller frees it with hearth_route_expr_free, also
    after a failure). Returns 0, or -1 with the reason in error.             */
int hearth_route_expr_parse (const char *text, hearth_route_expr_t *route, char *error,
                        size_t size);

/*  Frees what a parse allocated. Idempotent.                               */
void hearth_route_expr_free (hearth_route_expr_t *route);

/*  Services in stage (1, or the size of a parallel group).                 */
static inline int
hearth_route_expr_stage_size (const hearth_route_expr_t *route, int stage)
{
    return route->first[stage + 1] - route->first[stage];
}

/*  Service i of stage.                                                      */
static inline const char *
hearth_route_expr_service (const hearth_route_expr_t *route, int stage, int i)
{
    return route->name[route->first[stage] + i];
}

#endif
