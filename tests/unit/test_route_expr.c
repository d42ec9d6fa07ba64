/*  Unit tests of hearth_route_expr: the route grammar of PROTOCOL.md section 11
    and the service name rules of section 10.                                */
#include <stdlib.h>
#include "hearth_route_expr.h"
#include "hearth_test.h"

static void
test_parses_stages_and_groups (void)
{
    hearth_route_expr_t route;
    char error[256] = "";
    CHECK_INT (hearth_route_expr_parse (" a , [ b , c ] ,d", &route, error, sizeof error), 0);
    CHECK_INT (route.stage_count, 3);
    CHECK_INT (hearth_route_expr_stage_size (&route, 0), 1);
    CHECK_INT (hearth_route_expr_stage_size (&route, 1), 2);
    CHECK_INT (hearth_route_expr_stage_size (&route, 2), 1);
    CHECK_STR (hearth_route_expr_service (&route, 0, 0), "a");
    CHECK_STR (hearth_route_expr_service (&route, 1, 0), "b");
    CHECK_STR (hearth_route_expr_service (&route, 1, 1), "c");
    CHECK_STR (hearth_route_expr_service (&route, 2, 0), "d");
    hearth_route_expr_free (&route);
    hearth_route_expr_free (&route);          /* idempotent */
    CHECK_INT (hearth_route_expr_parse ("solo", &route, error, sizeof error), 0);
    CHECK_INT (route.stage_count, 1);
    CHECK_STR (hearth_route_expr_service (&route, 0, 0), "solo");
    hearth_route_expr_free (&route);
    CHECK_INT (hearth_route_expr_parse ("[x,y]", &route, error, sizeof error), 0);
    CHECK_INT (route.stage_count, 1);
    CHECK_INT (hearth_route_expr_stage_size (&route, 0), 2);
    hearth_route_expr_free (&route);
}

static void
s_refused (const char *text, const char *expected)
{
    hearth_route_expr_t route;
    char error[256] = "";
    CHECK_INT (hearth_route_expr_parse (text, &route, error, sizeof error), -1);
    CHECK_STR (error, expected);
    hearth_route_expr_free (&route);
}

static void
test_refuses_bad_routes (void)
{
    s_refused ("", "empty service name at ''");
    s_refused ("a,,b", "empty service name at ',b'");
    s_refused ("a,", "empty service name at ''");
    s_refused ("a]", "expected ',' between stages at ']'");
    s_refused ("a b", "expected ',' between stages at 'b'");
    s_refused ("[a,b", "group not closed with ']'");
    s_refused ("[a,[b]]", "groups cannot be nested");
    s_refused ("a,mmi.service", "service name 'mmi.service' is reserved for the "
               "broker (mmi., hearth.)");
    s_refused ("a,bad\x01name", "service name 'bad\x01name' must not contain "
               "spaces, control characters, ',', '[' or ']'");
    char many[256] = "a";
    for (int i = 1; i <= HEARTH_ROUTE_STAGES_MAX; i++)
        strcat (many, ",a");
    s_refused (many, "more than 32 stages");
    char wide[256] = "[a";
    for (int i = 1; i <= HEARTH_ROUTE_GROUP_MAX; i++)
        strcat (wide, ",a");
    strcat (wide, "]");
    s_refused (wide, "a group has more than 16 services");
    char long_name[400];
    memset (long_name, 'n', 300);
    long_name[300] = 0;
    s_refused (long_name, "service name longer than 255 bytes");
}

static void
test_name_rules (void)
{
    CHECK (hearth_route_expr_name_check ("sentiment") == NULL);
    CHECK (hearth_route_expr_name_check ("ns/expert-v2.1") == NULL);
    CHECK (hearth_route_expr_name_check ("") != NULL);
    CHECK (hearth_route_expr_name_check ("a,b") != NULL);
    CHECK (hearth_route_expr_name_check ("a b") != NULL);
    CHECK (hearth_route_expr_name_check ("[a]") != NULL);
    CHECK (hearth_route_expr_name_check ("tab\there") != NULL);
    CHECK (hearth_route_expr_name_check ("mmi.service") != NULL);
    CHECK (hearth_route_expr_name_check ("hearth.ping") != NULL);
    CHECK (hearth_route_expr_is_expression ("a,b"));
    CHECK (hearth_route_expr_is_expression ("[a]"));
    CHECK (!hearth_route_expr_is_expression ("a"));
    CHECK (!hearth_route_expr_is_expression ("a b"));
}

int
main (void)
{
    RUN (test_parses_stages_and_groups);
    RUN (test_refuses_bad_routes);
    RUN (test_name_rules);
    return HEARTH_TEST_RESULT;
}
