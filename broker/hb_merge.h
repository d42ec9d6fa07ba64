/*  hb_merge - the deep merge of a parallel group's JSON replies, run on a
    thread of its own so that the broker's thread never does work
    proportional to a body it does not have to read.

    The broker sends a merge (a header and the group's reply frames, moved:
    no copy) down an inproc PAIR to the merge thread, which parses, merges
    and re-encodes them and sends back the result (a header and the merged
    document). The two threads share nothing but that pipe. A merge is
    named by the id of the job it is for, never by a pointer, so a result
    that arrives after its job is gone (deadline, failure) is simply not
    found and dropped.

    Bounds, so a hostile reply cannot hold the thread or memory for long:
    a reply of more than HB_MERGE_VALUES_MAX values is refused before it is
    parsed, the merged document may not exceed the request's max_size
    (encoding stops there), and a merge whose deadline passes is abandoned
    between two replies. See schemas/PROTOCOL.md section 11.
*/
#ifndef HB_MERGE_H_INCLUDED
#define HB_MERGE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

/*  Values (object members and array elements, counted by a scan before
    any parsing) one reply may hold: jansson spends ~100 bytes of memory a
    value, so this caps a parsed reply near 100 MB whatever its bytes.      */
#define HB_MERGE_VALUES_MAX 1000000

/*  Merges the merge thread will queue; past it a merge is refused.        */
#define HB_MERGE_QUEUE_MAX 64

typedef struct _hb_merge_t hb_merge_t;

/*  What became of a merge.                                                 */
typedef enum {
    HB_MERGE_OK = 0,            /* merged document in the result's body     */
    HB_MERGE_NOT_OBJECT,        /* reply `member` is not a JSON object      */
    HB_MERGE_TOO_MANY_VALUES,   /* reply `member` has over VALUES_MAX       */
    HB_MERGE_TOO_LARGE,         /* the merged document exceeds max_size     */
    HB_MERGE_LATE,              /* the deadline passed: abandoned           */
    HB_MERGE_NO_MEMORY
} hb_merge_status_t;

/*  A merge asked for. id and stage come back in its result.                */
typedef struct {
    uint64_t id;                /* the job it is for                         */
    int stage;
    int64_t deadline_at;        /* hearth_clock_ms; abandoned past it       */
    size_t max_size;            /* largest merged document, bytes            */
} hb_merge_request_t;

/*  A merge done.                                                           */
typedef struct {
    uint64_t id;
    int stage;
    hb_merge_status_t status;
    int member;                 /* the reply at fault, or -1                 */
    zmq_msg_t body;             /* the merged document on HB_MERGE_OK, else
                                   empty; the caller closes it               */
} hb_merge_result_t;

/*  Starts the merge thread, its pipe made in context. NULL on failure.    */
hb_merge_t *hb_merge_new (void *context);

/*  Stops the thread (a merge it is running is abandoned after the reply
    it is parsing; queued ones are dropped unanswered) and joins it.
    Idempotent; nulls *self_p.                                               */
void hb_merge_destroy (hb_merge_t **self_p);

/*  The file descriptor to poll (POLLIN) for results: the pipe's ZMQ_FD,
    edge-triggered, so a reader calls hb_merge_recv until it returns 0.     */
int hb_merge_fd (hb_merge_t *self);

/*  Sends a merge of replies[0..count). The replies are moved (left empty)
    on success; on failure (queue full, -1 with errno EAGAIN, or another
    error) they are untouched. Never blocks.                                 */
int hb_merge_send (hb_merge_t *self, const hb_merge_request_t *request,
                   zmq_msg_t *replies, int count);

/*  Receives one result without blocking: 1 with *result filled (the
    caller closes result->body), 0 if none is ready.                         */
int hb_merge_recv (hb_merge_t *self, hb_merge_result_t *result);

/*  Merges sent whose results have not been received yet.                   */
int hb_merge_pending (hb_merge_t *self);

#endif
