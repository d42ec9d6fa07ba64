/*  test_wire - multipart receive into a fixed frame array, non-blocking
    send from parts, and status frames (common/hearth_wire).
*/
#include "hearth_wire.h"
#include "hearth_test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void *s_ctx;

/*  A connected inproc PAIR: *a sends, *b receives (and back).              */
static void
s_pair (void **a, void **b)
{
    static int serial = 0;
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "inproc://test-wire-%d", serial++);
    *b = zmq_socket (s_ctx, ZMQ_PAIR);
    *a = zmq_socket (s_ctx, ZMQ_PAIR);
    CHECK_INT (zmq_bind (*b, endpoint), 0);
    CHECK_INT (zmq_connect (*a, endpoint), 0);
}

static void
s_close (void *a, void *b)
{
    zmq_close (a);
    zmq_close (b);
}

/*  Sends count frames; frame i holds the text "frame-i". Returns the total
    number of bytes sent.                                                     */
static size_t
s_send_frames (void *socket, int count)
{
    size_t total = 0;
    for (int i = 0; i < count; i++) {
        char text[32];
        int len = snprintf (text, sizeof text, "frame-%d", i);
        CHECK_INT (zmq_send (socket, text, (size_t) len,
                             i + 1 < count ? ZMQ_SNDMORE : 0), len);
        total += (size_t) len;
    }
    return total;
}

static bool
s_frame_is (hearth_frames_t *frames, int index, int number)
{
    char text[32];
    snprintf (text, sizeof text, "frame-%d", number);
    return hearth_frames_is (frames, index, text);
}

static void
test_status (void)
{
    char out[3];
    static const struct { int in; const char *out; } encode[] = {
        { 200, "200" }, { 100, "100" }, { 599, "599" }, { 504, "504" },
        { 99, "500" }, { 600, "500" }, { -1, "500" }, { 0, "500" },
        { 1000, "500" },
    };
    for (size_t i = 0; i < sizeof encode / sizeof encode[0]; i++) {
        hearth_wire_status_encode (encode[i].in, out);
        CHECK_MEM (out, 3, encode[i].out, 3);
    }
    static const struct { const char *in; size_t size; int status; } decode[] = {
        { "200", 3, 200 }, { "100", 3, 100 }, { "599", 3, 599 },
        { "404", 3, 404 }, { "099", 3, -1 }, { "000", 3, -1 },
        { "600", 3, -1 }, { "999", 3, -1 }, { "20", 2, -1 }, { "2000", 4, -1 },
        { "", 0, -1 }, { "2a0", 3, -1 }, { " 20", 3, -1 }, { "20 ", 3, -1 },
        { "-20", 3, -1 }, { "/00", 3, -1 }, { "2:0", 3, -1 }, { "+20", 3, -1 },
        { "2\0000", 3, -1 },
    };
    for (size_t i = 0; i < sizeof decode / sizeof decode[0]; i++) {
        int got = hearth_wire_status_decode (decode[i].in, decode[i].size);
        if (got != decode[i].status)
            HEARTH_TEST_FAIL_AT ("decode case %zu: %d != %d", i, got,
                                 decode[i].status);
        hearth_test_checks++;
    }
    CHECK_INT (hearth_wire_status_decode (NULL, 0), -1);
    /*  Every valid code survives a round trip.                              */
    for (int status = 100; status <= 599; status++) {
        hearth_wire_status_encode (status, out);
        if (hearth_wire_status_decode (out, 3) != status)
            HEARTH_TEST_FAIL_AT ("round trip of %d", status);
    }
}

static void
test_recv_basic (void)
{
    void *a, *b;
    s_pair (&a, &b);
    hearth_frames_t frames;
    /*  Nothing there: EAGAIN, nothing held.                                 */
    CHECK_INT (hearth_frames_recv (&frames, b, ZMQ_DONTWAIT), -1);
    CHECK_INT (errno, EAGAIN);
    CHECK_INT (frames.count, 0);

    CHECK_INT (zmq_send (a, "", 0, ZMQ_SNDMORE), 0);
    CHECK_INT (zmq_send (a, "\x01", 1, ZMQ_SNDMORE), 1);
    CHECK_INT (zmq_send (a, "hello", 5, 0), 5);
    CHECK_INT (hearth_frames_recv (&frames, b, 0), 0);
    CHECK_INT (frames.count, 3);
    CHECK (!frames.truncated);
    CHECK_INT (frames.total, 6);
    CHECK (hearth_frames_is (&frames, 0, ""));
    CHECK (hearth_frames_is (&frames, 2, "hello"));
    CHECK (!hearth_frames_is (&frames, 2, "hell"));
    CHECK (!hearth_frames_is (&frames, 2, "hello!"));
    CHECK (!hearth_frames_is (&frames, 3, "hello"));
    CHECK_INT (hearth_frames_command (&frames, 1), 1);
    CHECK_INT (hearth_frames_command (&frames, 0), -1);   /* empty */
    CHECK_INT (hearth_frames_command (&frames, 2), -1);   /* 5 bytes */
    CHECK_INT (hearth_frames_command (&frames, 3), -1);   /* absent */
    CHECK_INT (hearth_frames_size (&frames, 2), 5);
    hearth_frames_close (&frames);
    CHECK_INT (frames.count, 0);
    hearth_frames_close (&frames);      /* idempotent */
    s_close (a, b);
}

/*  More than HEARTH_FRAMES_MAX frames: the message is marked truncated,
    the first HEARTH_FRAMES_MAX frames are intact, the frame and byte totals
    count every frame, and the next message arrives whole.                   */
static void
test_recv_too_many (void)
{
    void *a, *b;
    s_pair (&a, &b);
    hearth_frames_t frames;
    static const int counts[] = { HEARTH_FRAMES_MAX - 1, HEARTH_FRAMES_MAX,
                                  HEARTH_FRAMES_MAX + 1, HEARTH_FRAMES_MAX * 3 };
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int count = counts[c];
        size_t total = s_send_frames (a, count);
        s_send_frames (a, 2);
        CHECK_INT (hearth_frames_recv (&frames, b, 0), 0);
        bool over = count > HEARTH_FRAMES_MAX;
        CHECK_INT (frames.truncated, over);
        CHECK_INT (frames.count, over ? HEARTH_FRAMES_MAX : count);
        CHECK_INT (frames.frames, count);
        CHECK_INT (frames.total, total);
        for (int i = 0; i < frames.count; i++)
            if (!s_frame_is (&frames, i, i))
                HEARTH_TEST_FAIL_AT ("count %d: frame %d damaged", count, i);
        hearth_frames_close (&frames);

        CHECK_INT (hearth_frames_recv (&frames, b, ZMQ_DONTWAIT), 0);
        CHECK_INT (frames.count, 2);
        CHECK_INT (frames.frames, 2);
        CHECK (!frames.truncated);
        CHECK (s_frame_is (&frames, 0, 0));
        CHECK (s_frame_is (&frames, 1, 1));
        hearth_frames_close (&frames);
        CHECK_INT (hearth_frames_recv (&frames, b, ZMQ_DONTWAIT), -1);
    }
    s_close (a, b);
}

/*  A byte bound: frames are kept until they hold more than it (the frame
    that crosses it included), the rest are read and closed, and the totals
    still count the whole message.                                           */
static void
test_recv_bounded (void)
{
    void *a, *b;
    s_pair (&a, &b);
    hearth_frames_t frames;
    char block[100];
    memset (block, 'x', sizeof block);
    for (int i = 0; i < 10; i++)
        CHECK_INT (zmq_send (a, block, sizeof block, i < 9 ? ZMQ_SNDMORE : 0),
                   (int) sizeof block);
    s_send_frames (a, 2);
    /*  250 bytes: frames 0-1 hold 200, frame 2 crosses to 300.             */
    CHECK_INT (hearth_frames_recv_bounded (&frames, b, 0, 250), 0);
    CHECK_INT (frames.count, 3);
    CHECK_INT (frames.frames, 10);
    CHECK_INT (frames.total, 1000);
    CHECK (frames.truncated);
    CHECK_INT (hearth_frames_size (&frames, 2), 100);
    hearth_frames_close (&frames);
    /*  The next message is whole, and a bound it is under changes nothing. */
    CHECK_INT (hearth_frames_recv_bounded (&frames, b, ZMQ_DONTWAIT, 250), 0);
    CHECK_INT (frames.count, 2);
    CHECK (!frames.truncated);
    CHECK (s_frame_is (&frames, 1, 1));
    hearth_frames_close (&frames);
    s_close (a, b);
}

/*  A heap-sized frame (libzmq keeps small ones inline), so LeakSanitizer
    notices if a moved frame is not consumed.                                */
static void
s_big_msg (zmq_msg_t *msg, char fill)
{
    zmq_msg_init_size (msg, 1000);
    memset (zmq_msg_data (msg), fill, 1000);
}

static void
test_send (void)
{
    void *a, *b;
    s_pair (&a, &b);
    zmq_msg_t moved;
    s_big_msg (&moved, 'm');
    hearth_part_t parts[] = {
        HEARTH_PART_EMPTY,
        HEARTH_PART_STR ("HEARTHC1"),
        HEARTH_PART_BYTES ("\x02", 1),
        HEARTH_PART_MSG (&moved),
        HEARTH_PART_BYTES (NULL, 0),
    };
    CHECK_INT (hearth_wire_send (a, parts, 5), 0);
    /*  The moved frame was taken: it is now empty.                          */
    CHECK_INT (zmq_msg_size (&moved), 0);
    hearth_frames_t frames;
    CHECK_INT (hearth_frames_recv (&frames, b, 0), 0);
    CHECK_INT (frames.count, 5);
    CHECK (hearth_frames_is (&frames, 0, ""));
    CHECK (hearth_frames_is (&frames, 1, "HEARTHC1"));
    CHECK_INT (hearth_frames_command (&frames, 2), 2);
    CHECK_INT (hearth_frames_size (&frames, 3), 1000);
    CHECK_INT (((const char *) hearth_frames_data (&frames, 3))[999], 'm');
    CHECK_INT (hearth_frames_size (&frames, 4), 0);

    /*  Forward received frames without copying, as the broker does: the
        body frame moves from one message to the next.                        */
    hearth_part_t forward[] = {
        HEARTH_PART_STR ("fwd"),
        HEARTH_PART_MSG (&frames.frame[3]),
    };
    CHECK_INT (hearth_wire_send (b, forward, 2), 0);
    hearth_frames_close (&frames);
    hearth_frames_t back;
    CHECK_INT (hearth_frames_recv (&back, a, 0), 0);
    CHECK_INT (back.count, 2);
    CHECK (hearth_frames_is (&back, 0, "fwd"));
    CHECK_INT (hearth_frames_size (&back, 1), 1000);
    hearth_frames_close (&back);
    s_close (a, b);
}

/*  A send that cannot go out fails at once (never blocks) and still
    consumes every moved frame, so the caller never has to clean up.         */
static void
test_send_failure (void)
{
    void *lonely = zmq_socket (s_ctx, ZMQ_PAIR);    /* no peer */
    zmq_msg_t first, last;
    s_big_msg (&first, 'f');
    s_big_msg (&last, 'l');
    hearth_part_t parts[] = {
        HEARTH_PART_MSG (&first),
        HEARTH_PART_STR ("middle"),
        HEARTH_PART_MSG (&last),
    };
    CHECK_INT (hearth_wire_send (lonely, parts, 3), -1);
    CHECK_INT (errno, EAGAIN);
    /*  Copy-only parts fail the same way with nothing to leak.              */
    hearth_part_t copies[] = { HEARTH_PART_STR ("a"), HEARTH_PART_EMPTY };
    CHECK_INT (hearth_wire_send (lonely, copies, 2), -1);
    CHECK_INT (errno, EAGAIN);

    /*  ROUTER_MANDATORY to an unknown peer: EHOSTUNREACH, frames taken.     */
    void *router = zmq_socket (s_ctx, ZMQ_ROUTER);
    int on = 1;
    zmq_setsockopt (router, ZMQ_ROUTER_MANDATORY, &on, sizeof on);
    zmq_msg_t body;
    s_big_msg (&body, 'b');
    hearth_part_t to_nobody[] = {
        HEARTH_PART_STR ("nobody"), HEARTH_PART_EMPTY, HEARTH_PART_MSG (&body),
    };
    CHECK_INT (hearth_wire_send (router, to_nobody, 3), -1);
    CHECK_INT (errno, EHOSTUNREACH);
    zmq_close (router);
    zmq_close (lonely);
}

int
main (void)
{
    s_ctx = zmq_ctx_new ();
    RUN (test_status);
    RUN (test_recv_basic);
    RUN (test_recv_too_many);
    RUN (test_recv_bounded);
    RUN (test_send);
    RUN (test_send_failure);
    zmq_ctx_term (s_ctx);
    return HEARTH_TEST_RESULT;
}
