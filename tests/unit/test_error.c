/*  test_error - error names and texts, and the wire status mapping
    (common/hearth_error.c, declared in include/hearth/hearth.h).
*/
#include "hearth/hearth.h"
#include "hearth_test.h"

static void
test_names_and_texts (void)
{
    for (int i = 0; i < HEARTH_ERROR_COUNT; i++) {
        const char *name = hearth_error_name (i);
        const char *text = hearth_strerror (i);
        CHECK (name != NULL && strncmp (name, "HEARTH_", 7) == 0);
        CHECK (text != NULL && text[0] != 0);
        /*  Names are unique: a log line names exactly one error.            */
        for (int j = 0; j < i; j++)
            if (strcmp (name, hearth_error_name (j)) == 0)
                HEARTH_TEST_FAIL_AT ("errors %d and %d share %s", i, j, name);
    }
    CHECK_STR (hearth_error_name (HEARTH_OK), "HEARTH_OK");
    CHECK_STR (hearth_error_name (HEARTH_ETIMEOUT), "HEARTH_ETIMEOUT");
    CHECK_STR (hearth_strerror (HEARTH_OK), "success");
    CHECK_STR (hearth_strerror (-1), "unknown error");
    CHECK_STR (hearth_strerror (HEARTH_ERROR_COUNT), "unknown error");
    CHECK_STR (hearth_strerror (1 << 30), "unknown error");
    CHECK_STR (hearth_error_name (-1), "HEARTH_E?");
    CHECK_STR (hearth_error_name (HEARTH_ERROR_COUNT), "HEARTH_E?");
}

static void
test_from_status (void)
{
    static const struct { int status; hearth_error_t error; const char *text; }
    known[] = {
        { HEARTH_STATUS_OK,           HEARTH_OK,           "OK" },
        { HEARTH_STATUS_BAD_REQUEST,  HEARTH_EMALFORMED,   "Bad Request" },
        { HEARTH_STATUS_FORBIDDEN,    HEARTH_EFORBIDDEN,   "Forbidden" },
        { HEARTH_STATUS_NOT_FOUND,    HEARTH_ENOSERVICE,   "Not Found" },
        { HEARTH_STATUS_TOO_LARGE,    HEARTH_ETOOLARGE,    "Payload Too Large" },
        { HEARTH_STATUS_WORKER_ERROR, HEARTH_EWORKER,      "Worker Error" },
        { HEARTH_STATUS_NOT_IMPL,     HEARTH_ENOTIMPL,     "Not Implemented" },
        { HEARTH_STATUS_WORKER_LOST,  HEARTH_EWORKERLOST,  "Worker Lost" },
        { HEARTH_STATUS_UNAVAILABLE,  HEARTH_EUNAVAILABLE, "Service Unavailable" },
        { HEARTH_STATUS_TIMEOUT,      HEARTH_ETIMEOUT,     "Gateway Timeout" },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        CHECK_INT (hearth_error_from_status (known[i].status), known[i].error);
        CHECK_STR (hearth_status_text (known[i].status), known[i].text);
    }
    /*  PROTOCOL.md 3.2: "Clients treat unknown codes by class".             */
    static const struct { int status; hearth_error_t error; } classes[] = {
        { 201, HEARTH_OK }, { 299, HEARTH_OK },
        { 401, HEARTH_EMALFORMED }, { 418, HEARTH_EMALFORMED },
        { 499, HEARTH_EMALFORMED },
        { 505, HEARTH_EWORKER }, { 599, HEARTH_EWORKER },
        { 100, HEARTH_ESTATUS }, { 199, HEARTH_ESTATUS },
        { 302, HEARTH_ESTATUS }, { 600, HEARTH_ESTATUS },
        { 0, HEARTH_ESTATUS }, { -1, HEARTH_ESTATUS }, { 1000, HEARTH_ESTATUS },
    };
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        CHECK_INT (hearth_error_from_status (classes[i].status),
                   classes[i].error);
    CHECK_STR (hearth_status_text (418), "Unknown");
    CHECK_STR (hearth_status_text (-1), "Unknown");
}

int
main (void)
{
    RUN (test_names_and_texts);
    RUN (test_from_status);
    return HEARTH_TEST_RESULT;
}
