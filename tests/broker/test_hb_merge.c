/*  Unit tests of hb_merge: a group's JSON replies merged on the merge
    thread, its bounds (values, merged size, deadline), results matched by
    id, and a stop with merges still queued.                                */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include "hb_merge.h"
#include "hearth_clock.h"
#include "hearth_test.h"

/*  Points msg at text, without a copy: text outlives the merge.            */
static void
s_point (zmq_msg_t *msg, const char *text)
{
    REQUIRE (zmq_msg_init_data (msg, (void *) text, strlen (text), NULL, NULL) == 0);
}

static void
s_set (zmq_msg_t *msg, const char *text)
{
    size_t size = strlen (text);
    REQUIRE (zmq_msg_init_size (msg, size) == 0);
    memcpy (zmq_msg_data (msg), text, size);
}

/*  Sends a merge of the texts and waits (10 s at most) for its result.    */
static void
s_merge (hb_merge_t *merge, uint64_t id, int64_t deadline_at, size_t max_size,
         const char *const *texts, int count, hb_merge_result_t *result)
{
    zmq_msg_t replies[16];
    for (int i = 0; i < count; i++)
        s_set (&replies[i], texts[i]);
    hb_merge_request_t request = { id, 3, deadline_at, max_size };
    REQUIRE (hb_merge_send (merge, &request, replies, count) == 0);
    for (int i = 0; i < count; i++)
        CHECK_INT (zmq_msg_size (&replies[i]), 0);    /* moved */
    CHECK_INT (hb_merge_pending (merge), 1);
    int64_t give_up = hearth_clock_ms () + 10000;
    while (hb_merge_recv (merge, result) == 0) {
        zmq_msg_close (&result->body);
        struct pollfd item = { hb_merge_fd (merge), POLLIN, 0 };
        REQUIRE (hearth_clock_ms () < give_up, "no merge result in 10 s");
        poll (&item, 1, 100);
    }
    CHECK_INT (result->id, id);
    CHECK_INT (result->stage, 3);
    CHECK_INT (hb_merge_pending (merge), 0);
}

static void
s_check_body (hb_merge_result_t *result, const char *expected)
{
    CHECK_MEM (zmq_msg_data (&result->body), zmq_msg_size (&result->body),
               expected, strlen (expected));
    zmq_msg_close (&result->body);
}

static void
test_merges_in_order_later_wins (void)
{
    void *context = zmq_ctx_new ();
    hb_merge_t *merge = hb_merge_new (context);
    REQUIRE (merge);
    const char *texts[] = {
        "{\"k\":{\"x\":1,\"y\":1},\"a\":[1,2]}", "{\"k\":{\"y\":2},\"a\":\"s\"}",
        "{\"b\":true}"
    };
    hb_merge_result_t result;
    int64_t later = hearth_clock_ms () + 60000;
    s_merge (merge, 42, later, 1 << 20, texts, 3, &result);
    CHECK_INT (result.status, HB_MERGE_OK);
    CHECK_INT (result.member, -1);
    s_check_body (&result, "{\"k\":{\"x\":1,\"y\":2},\"a\":\"s\",\"b\":true}");

    const char *not_object[] = { "{}", "[1]" };
    s_merge (merge, 43, later, 1 << 20, not_object, 2, &result);
    CHECK_INT (result.status, HB_MERGE_NOT_OBJECT);
    CHECK_INT (result.member, 1);
    s_check_body (&result, "");

    /*  The merged text is 14 bytes: a limit of 14 takes it, 13 does not.   */
    const char *sized[] = { "{\"a\":1}", "{\"b\":22}" };
    s_merge (merge, 44, later, 14, sized, 2, &result);
    CHECK_INT (result.status, HB_MERGE_OK);
    s_check_body (&result, "{\"a\":1,\"b\":22}");
    s_merge (merge, 45, later, 13, sized, 2, &result);
    CHECK_INT (result.status, HB_MERGE_TOO_LARGE);
    s_check_body (&result, "");

    /*  A deadline already passed: abandoned before the first reply.        */
    s_merge (merge, 46, hearth_clock_ms () - 1, 1 << 20, sized, 2, &result);
    CHECK_INT (result.status, HB_MERGE_LATE);
    s_check_body (&result, "");
    hb_merge_destroy (&merge);
    CHECK (merge == NULL);
    hb_merge_destroy (&merge);      /* idempotent */
    zmq_ctx_term (context);
}

/*  Builds {"v":[0,0,...]} with count values in the array, plus the array
    and the object themselves; commas inside strings do not count.          */
static char *
s_values (size_t zeros, const char *prefix)
{
    size_t size = strlen (prefix) + zeros * 2 + 16;
    char *text = malloc (size);
    REQUIRE (text);
    char *cursor = text + sprintf (text, "{%s\"v\":[", prefix);
    for (size_t i = 0; i < zeros; i++)
        cursor += sprintf (cursor, i ? ",0" : "0");
    strcpy (cursor, "]}");
    return text;
}

static void
test_values_are_bounded_before_parsing (void)
{
    void *context = zmq_ctx_new ();
    hb_merge_t *merge = hb_merge_new (context);
    REQUIRE (merge);
    int64_t later = hearth_clock_ms () + 60000;
    hb_merge_result_t result;
    /*  The object, its member "s", the array: 3 + zeros values, and a
        string full of commas, brackets and an escaped quote that count
        for nothing.                                                         */
    char *within = s_values (HB_MERGE_VALUES_MAX - 3,
                             "\"s\":\",,,[[{{\\\",,\",");
    char *over = s_values (HB_MERGE_VALUES_MAX - 2, "\"s\":\"\",");
    const char *ok[] = { "{}", within };
    s_merge (merge, 1, later, 16 << 20, ok, 2, &result);
    CHECK_INT (result.status, HB_MERGE_OK);
    zmq_msg_close (&result.body);
    const char *refused[] = { "{}", over };
    s_merge (merge, 2, later, 16 << 20, refused, 2, &result);
    CHECK_INT (result.status, HB_MERGE_TOO_MANY_VALUES);
    CHECK_INT (result.member, 1);
    zmq_msg_close (&result.body);
    free (within);
    free (over);
    hb_merge_destroy (&merge);
    zmq_ctx_term (context);
}

/*  Merges still queued at destroy are dropped, and destroy does not wait
    for them to be merged.                                                  */
static void
test_destroy_with_merges_queued (void)
{
    void *context = zmq_ctx_new ();
    hb_merge_t *merge = hb_merge_new (context);
    REQUIRE (merge);
    int64_t later = hearth_clock_ms () + 60000;
    char *big = s_values (HB_MERGE_VALUES_MAX - 3, "");
    for (int i = 0; i < HB_MERGE_QUEUE_MAX; i++) {
        zmq_msg_t replies[2];
        s_point (&replies[0], big);
        s_point (&replies[1], big);
        hb_merge_request_t request = { (uint64_t) i + 1, 0, later, 16 << 20 };
        CHECK_INT (hb_merge_send (merge, &request, replies, 2), 0);
    }
    /*  One more is refused, its replies left to the caller.                */
    zmq_msg_t replies[2];
    s_set (&replies[0], "{}");
    s_set (&replies[1], "{}");
    hb_merge_request_t request = { 999, 0, later, 16 << 20 };
    errno = 0;
    CHECK_INT (hb_merge_send (merge, &request, replies, 2), -1);
    CHECK_INT (errno, EAGAIN);
    CHECK_INT (zmq_msg_size (&replies[0]), 2);
    zmq_msg_close (&replies[0]);
    zmq_msg_close (&replies[1]);
    int64_t started = hearth_clock_ms ();
    hb_merge_destroy (&merge);
    /*  64 merges of 2 x 2 MB would take far longer than one reply's parse. */
    CHECK (hearth_clock_ms () - started < 10000);
    free (big);
    zmq_ctx_term (context);
}

int
main (void)
{
    RUN (test_merges_in_order_later_wins);
    RUN (test_values_are_bounded_before_parsing);
    RUN (test_destroy_with_merges_queued);
    return HEARTH_TEST_RESULT;
}
