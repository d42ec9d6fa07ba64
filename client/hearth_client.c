/*  hearth_client - the native (HMP/1) client: one DEALER to the broker,
    many requests in flight, exactly one reply for every request sent.

    Every request in flight has a record in a small pool. Two indexes point
    at the records: an open-addressing hash by request id (a reply finds its
    request in O(1)) and a min-heap by local deadline (hearth_heap: the next
    expiry is always at the top), so neither a reply nor a timer scans the
    whole set. Replies that are ready but not yet taken by the caller wait
    in a FIFO list; a synchronous call parks replies for other ids there, so
    async and sync use of one client mix safely.

    Replies the broker cannot send any more are made here: a request whose
    deadline (plus a grace, so the broker's own 504 normally wins) passes
    gets a local 504, and every request in flight when the connection drops
    gets a local 502, because a reconnected DEALER has a new routing id and
    the broker could never route their replies to us.
*/
#include "hearth_reply_internal.h"
#include "hearth_clock.h"
#include "hearth_heap.h"
#include "hearth_log.h"
#include "hearth_meta.h"
#include "hearth_wire.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  The broker's deadline and ours start at the same budget; ours waits a
    little longer so its precise 504 (with queue/run details) arrives
    first.                                                                   */
#define S_GRACE_MS              250
#define S_CONNECT_TIMEOUT_MS    2000
#define S_FLIGHTS_MIN           64
#define S_NONE                  UINT32_MAX
#define S_NEVER                 INT64_MAX

#define S_ERROR_DEADLINE  "deadline exceeded (no reply from broker)"
#define S_ERROR_LOST      "broker connection lost"

typedef struct {
    uint64_t id;                /* 0 when the record is free                */
    int64_t deadline;           /* local expiry, monotonic ms               */
    uint32_t link;              /* heap position, or next free record       */
} s_flight_t;

typedef struct {
    uint64_t id;                /* 0 when the slot is empty                 */
    uint32_t flight;            /* index into flights                       */
} s_slot_t;

struct _hearth_client_t {
    void *ctx;
    void *socket;               /* DEALER to the broker                     */
    void *monitor;              /* PAIR reading the DEALER's events         */
    int socket_fd, monitor_fd;  /* their ZMQ_FDs, polled directly           */
    char *name;
    char *version;
    int connect_timeout;
    bool connected;
    bool monitor_ready;         /* the last poll saw a monitor event        */
    int64_t down_since;         /* creation, or the last disconnect         */
    uint64_t next_id;

    s_flight_t *flights;        /* record pool, flights_max entries         */
    uint32_t flights_max;
    uint32_t free_head;
    hearth_heap_t *heap;        /* record indexes by deadline: one per
                                   request in flight                        */
    s_slot_t *slots;            /* hash by id, slots_mask + 1 entries       */
    uint32_t slots_mask;

    hearth_reply_t *ready_head; /* replies not yet taken, oldest first      */
    hearth_reply_t *ready_tail;
    size_t ready_count;

    uint64_t waiting_id;        /* the id a sync call waits for, or 0       */
    hearth_reply_t *waited;     /* its reply, once there                    */

    hearth_meta_writer_t writer;/* reused for every request's metadata      */
};

/* ------------------------------------------------------- deadline heap */

/*  Heap items are record indexes (records move when the pool grows); each
    record keeps its heap position in link.                                  */
static void
s_flight_moved (void *arg, uintptr_t item, size_t index)
{
    hearth_client_t *self = arg;
    self->flights[item].link = (uint32_t) index;
}

/*  Requests in flight: each has exactly one place in the heap.            */
static size_t
s_in_flight (const hearth_client_t *self)
{
    return hearth_heap_size (self->heap);
}

/*  The earliest local deadline in flight, or S_NEVER.                     */
static int64_t
s_earliest (const hearth_client_t *self)
{
    return s_in_flight (self) ? hearth_heap_key (self->heap, 0) : S_NEVER;
}

/*  The id of the request at heap position index.                          */
static uint64_t
s_heap_id (const hearth_client_t *self, size_t index)
{
    return self->flights[hearth_heap_item (self->heap, index)].id;
}

/* ------------------------------------------------------------ id hash */

/*  Ids are a counter, so the low bits alone spread them evenly.            */
static uint32_t
s_slot_find (hearth_client_t *self, uint64_t id)
{
    uint32_t i = (uint32_t) id & self->slots_mask;
    while (self->slots[i].id) {
        if (self->slots[i].id == id)
            return i;
        i = (i + 1) & self->slots_mask;
    }
    return S_NONE;
}

static void
s_slot_insert (s_slot_t *slots, uint32_t mask, uint64_t id, uint32_t flight)
{
    uint32_t i = (uint32_t) id & mask;
    while (slots[i].id)
        i = (i + 1) & mask;
    slots[i].id = id;
    slots[i].flight = flight;
}

/*  Backward-shift deletion keeps every probe chain unbroken without
    tombstones, so lookups never slow down as requests come and go.        */
static void
s_slot_delete (hearth_client_t *self, uint32_t i)
{
    uint32_t mask = self->slots_mask, j = i;
    while (true) {
        j = (j + 1) & mask;
        if (!self->slots[j].id)
            break;
        uint32_t home = (uint32_t) self->slots[j].id & mask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        self->slots[i] = self->slots[j];
        i = j;
    }
    self->slots[i].id = 0;
}

/* ------------------------------------------------------ in-flight set */

/*  Makes room for one more request, so that recording a request that has
    already gone out cannot fail. Returns 0, or -1 out of memory.           */
static int
s_flight_reserve (hearth_client_t *self)
{
    if (self->free_head == S_NONE) {
        uint32_t max = self->flights_max ? self->flights_max * 2
                                         : S_FLIGHTS_MIN;
        s_flight_t *flights = realloc (self->flights, max * sizeof *flights);
        if (!flights)
            return -1;
        self->flights = flights;
        if (hearth_heap_reserve (self->heap, max))
            return -1;
        for (uint32_t i = self->flights_max; i < max; i++) {
            flights[i].id = 0;
            flights[i].link = i + 1 < max ? i + 1 : S_NONE;
        }
        self->free_head = self->flights_max;
        self->flights_max = max;
    }
    /*  Load factor at most one half keeps linear probes short.             */
    if ((s_in_flight (self) + 1) * 2 > self->slots_mask + 1) {
        uint32_t size = (self->slots_mask + 1) * 2;
        s_slot_t *slots = calloc (size, sizeof *slots);
        if (!slots)
            return -1;
        for (uint32_t i = 0; i <= self->slots_mask; i++)
            if (self->slots[i].id)
                s_slot_insert (slots, size - 1, self->slots[i].id,
                               self->slots[i].flight);
        free (self->slots);
        self->slots = slots;
        self->slots_mask = size - 1;
    }
    return 0;
}

/*  Records a request; s_flight_reserve must have succeeded just before.   */
static void
s_flight_add (hearth_client_t *self, uint64_t id, int64_t deadline)
{
    uint32_t index = self->free_head;
    s_flight_t *flight = &self->flights[index];
    self->free_head = flight->link;
    flight->id = id;
    flight->deadline = deadline;
    /*  Cannot fail: s_flight_reserve made room for every record.          */
    hearth_heap_push (self->heap, deadline, index);
    s_slot_insert (self->slots, self->slots_mask, id, index);
}

/*  Forgets request id. Returns true if it was in flight.                   */
static bool
s_flight_take (hearth_client_t *self, uint64_t id)
{
    uint32_t slot = s_slot_find (self, id);
    if (slot == S_NONE)
        return false;
    uint32_t index = self->slots[slot].flight;
    s_slot_delete (self, slot);
    hearth_heap_remove (self->heap, self->flights[index].link);
    self->flights[index].id = 0;
    self->flights[index].link = self->free_head;
    self->free_head = index;
    return true;
}

static int64_t
s_flight_deadline (hearth_client_t *self, uint64_t id)
{
    uint32_t slot = s_slot_find (self, id);
    return slot == S_NONE ? S_NEVER
                          : self->flights[self->slots[slot].flight].deadline;
}

/* ------------------------------------------------------------ replies */

/*  Hands a reply to whoever waits for it: the sync call in progress, or
    the queue read by hearth_client_recv. Takes ownership of reply.          */
static void
s_deliver (hearth_client_t *self, hearth_reply_t *reply)
{
    if (self->waiting_id && reply->id == self->waiting_id && !self->waited) {
        self->waited = reply;
        return;
    }
    reply->next = NULL;
    if (self->ready_tail)
        self->ready_tail->next = reply;
    else
        self->ready_head = reply;
    self->ready_tail = reply;
    self->ready_count++;
}

static hearth_reply_t *
s_ready_pop (hearth_client_t *self)
{
    hearth_reply_t *reply = self->ready_head;
    if (reply) {
        self->ready_head = reply->next;
        if (!self->ready_head)
            self->ready_tail = NULL;
        self->ready_count--;
        reply->next = NULL;
    }
    return reply;
}

/*  Answers request id locally. Returns 0, or -1 out of memory, in which
    case the request stays in flight so it still gets a reply later.       */
static int
s_answer_locally (hearth_client_t *self, uint64_t id, int status,
                  const char *error)
{
    hearth_reply_t *reply = hearth_reply_new_local (id, status, error);
    if (!reply)
        return -1;
    s_flight_take (self, id);
    s_deliver (self, reply);
    return 0;
}

/*  Answers every request whose local deadline has passed.                  */
static int
s_expire (hearth_client_t *self, int64_t now)
{
    while (s_earliest (self) <= now)
        if (s_answer_locally (self, s_heap_id (self, 0),
                              HEARTH_STATUS_TIMEOUT, S_ERROR_DEADLINE))
            return -1;
    return 0;
}

/* ------------------------------------------------------------- input */

static void
s_drop (hearth_frames_t *frames, int index, const char *why)
{
    char sample[256] = "";
    if (index < frames->count)
        hearth_log_sample (hearth_frames_data (frames, index),
                           hearth_frames_size (frames, index),
                           sample, sizeof sample);
    hearth_log_warn ("client: dropped malformed reply (%s, %d frames): "
                     "frame %d: %s", why, frames->count, index, sample);
}

static uint64_t
s_id_decode (const uint8_t *data)
{
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id = (id << 8) | data[i];
    return id;
}

static void
s_id_encode (uint64_t id, uint8_t *out)
{
    for (int i = 7; i >= 0; i--, id >>= 8)
        out[i] = (uint8_t) id;
}

/*  Checks one received message and delivers it if it is a reply to a
    request in flight. Returns 0, or -1 out of memory (the message is then
    dropped and its request answered later by its deadline).                 */
static int
s_handle_message (hearth_client_t *self, hearth_frames_t *frames)
{
    if (frames->count != HEARTH_CLIENT_REPLY_FRAMES || frames->truncated) {
        s_drop (frames, frames->count > 1 ? 1 : 0, "frame count");
        return 0;
    }
    if (hearth_frames_size (frames, 0) != 0) {
        s_drop (frames, 0, "no delimiter");
        return 0;
    }
    if (!hearth_frames_is (frames, 1, HEARTH_CLIENT_HEADER)) {
        s_drop (frames, 1, "header");
        return 0;
    }
    if (hearth_frames_command (frames, 2) != HEARTH_CLIENT_REPLY) {
        s_drop (frames, 2, "command");
        return 0;
    }
    if (hearth_frames_size (frames, 3) != 8) {
        s_drop (frames, 3, "request id");
        return 0;
    }
    int status = hearth_wire_status_decode (hearth_frames_data (frames, 4),
                                            hearth_frames_size (frames, 4));
    if (status < 0) {
        s_drop (frames, 4, "status");
        return 0;
    }
    if (hearth_frames_size (frames, 5) > HEARTH_META_MAX
    ||  hearth_meta_validate (hearth_frames_data (frames, 5),
                              hearth_frames_size (frames, 5))) {
        s_drop (frames, 5, "metadata");
        return 0;
    }
    uint64_t id = s_id_decode (hearth_frames_data (frames, 3));
    if (s_slot_find (self, id) == S_NONE) {
        /*  Answered already (locally, by deadline or lost connection) or
            abandoned by a sync call that gave up: nobody wants it.          */
        hearth_log_debug ("client: dropped reply to unknown request %llu",
                          (unsigned long long) id);
        return 0;
    }
    hearth_reply_t *reply = hearth_reply_new (id, status, &frames->frame[5],
                                              &frames->frame[6]);
    if (!reply)
        return -1;
    s_flight_take (self, id);
    s_deliver (self, reply);
    return 0;
}

/*  Reads every message already received, without waiting. Returns 0, or
    -1 on a failure other than "nothing more to read".                       */
static int
s_handle_socket (hearth_client_t *self)
{
    hearth_frames_t frames;
    while (hearth_frames_recv (&frames, self->socket, ZMQ_DONTWAIT) == 0) {
        /*  Whatever arrives proves the connection, even before the
            monitor's CONNECTED event is read.                              */
        self->connected = true;
        int rc = s_handle_message (self, &frames);
        hearth_frames_close (&frames);
        if (rc)
            return -1;
    }
    return errno == EAGAIN || errno == EINTR ? 0 : -1;
}

/*  The connection dropped: the broker knew us by a routing id that is now
    gone, so it can never answer what we sent through it.                   */
static int
s_connection_lost (hearth_client_t *self)
{
    self->connected = false;
    self->down_since = hearth_clock_ms ();
    /*  Replies that arrived before the drop are real: take them first.     */
    if (s_handle_socket (self))
        return -1;
    while (s_in_flight (self))
        if (s_answer_locally (self, s_heap_id (self, s_in_flight (self) - 1),
                              HEARTH_STATUS_WORKER_LOST, S_ERROR_LOST))
            return -1;
    return 0;
}

/*  Reads the DEALER's monitor events without waiting.                      */
static int
s_handle_monitor (hearth_client_t *self)
{
    hearth_frames_t frames;
    while (hearth_frames_recv (&frames, self->monitor, ZMQ_DONTWAIT) == 0) {
        uint16_t event = 0;
        /*  Frame 0: a 16-bit event number then a 32-bit value.             */
        if (frames.count >= 1 && hearth_frames_size (&frames, 0) >= 2)
            memcpy (&event, hearth_frames_data (&frames, 0), sizeof event);
        hearth_frames_close (&frames);
        if (event == ZMQ_EVENT_CONNECTED)
            self->connected = true;
        else
        if (event == ZMQ_EVENT_DISCONNECTED) {
            hearth_log_debug ("client: broker connection lost");
            if (s_connection_lost (self))
                return -1;
        }
    }
    return 0;
}

/*  Reads everything that is waiting, then answers what has expired.
    Returns 0, or a hearth error.                                            */
static int
s_process (hearth_client_t *self, int64_t now)
{
    /*  Reading the monitor costs system calls inside libzmq: do it only
        when the last poll saw an event, or while still waiting to connect. */
    bool monitor = self->monitor_ready || !self->connected;
    self->monitor_ready = false;
    if (s_handle_socket (self) || (monitor && s_handle_monitor (self)))
        return errno == ENOMEM ? HEARTH_ENOMEM : HEARTH_ESYS;
    if (s_expire (self, now))
        return HEARTH_ENOMEM;
    return HEARTH_OK;
}

/*  Waits until the socket or the monitor may have something, or until the
    monotonic time until. Returns 0, or a hearth error. A plain poll on
    their ZMQ_FDs (zmq_poll costs two system calls more per socket). The
    fds are edge-triggered: s_process has just read the socket until
    EAGAIN, with no send since, and reads the monitor until EAGAIN when
    its fd fires, so no input can be waiting unsignalled.                   */
static int
s_wait (hearth_client_t *self, int64_t until)
{
    int64_t now = hearth_clock_ms ();
    if (until <= now)
        return HEARTH_OK;
    int timeout = until - now > 60000 ? 60000 : (int) (until - now);
    struct pollfd items[] = {
        { self->socket_fd, POLLIN, 0 },
        { self->monitor_fd, POLLIN, 0 },
    };
    if (poll (items, 2, timeout) < 0 && errno != EINTR)
        return HEARTH_ESYS;
    if (items[1].revents & POLLIN)
        self->monitor_ready = true;
    return HEARTH_OK;
}

static int64_t
s_min (int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* -------------------------------------------------------------- send */

static int
s_send (hearth_client_t *self, const char *service, const void *body,
        size_t size, int timeout_ms, int flags, uint64_t *id_p)
{
    if (!self || !service || (!body && size))
        return HEARTH_EINVAL;
    size_t service_len = strlen (service);
    if (service_len == 0 || service_len > HEARTH_SERVICE_MAX)
        return HEARTH_EINVAL;
    if (timeout_ms <= 0)
        timeout_ms = HEARTH_DEFAULT_DEADLINE_MS;
    if (s_flight_reserve (self))
        return HEARTH_ENOMEM;

    hearth_meta_writer_reset (&self->writer);
    hearth_meta_put_uint (&self->writer, HEARTH_META_DEADLINE,
                          (uint64_t) timeout_ms);
    if (flags & HEARTH_IDEMPOTENT)
        hearth_meta_put_bool (&self->writer, HEARTH_META_IDEMPOTENT, true);
    if (self->name)
        hearth_meta_put_str (&self->writer, HEARTH_META_CLIENT, self->name);
    if (self->version)
        hearth_meta_put_str (&self->writer, HEARTH_META_CLIENT_VER,
                             self->version);
    zmq_msg_t meta;
    if (hearth_meta_writer_to_msg (&self->writer, &meta))
        return HEARTH_ENOMEM;

    uint64_t id = self->next_id;
    uint8_t id_bytes[8];
    s_id_encode (id, id_bytes);
    uint8_t command = HEARTH_CLIENT_REQUEST;
    hearth_part_t parts[] = {
        HEARTH_PART_EMPTY,
        HEARTH_PART_STR (HEARTH_CLIENT_HEADER),
        HEARTH_PART_BYTES (&command, 1),
        HEARTH_PART_BYTES (id_bytes, sizeof id_bytes),
        HEARTH_PART_BYTES (service, service_len),
        HEARTH_PART_MSG (&meta),
        HEARTH_PART_BYTES (body, size),
    };
    if (hearth_wire_send (self->socket, parts, HEARTH_CLIENT_REQUEST_FRAMES))
        /*  EAGAIN: the outgoing queue is at its high-water mark (broker
            slow or absent): the caller should back off.                    */
        return errno == EAGAIN ? HEARTH_EUNAVAILABLE : HEARTH_ESYS;
    self->next_id++;
    s_flight_add (self, id, hearth_clock_ms () + timeout_ms + S_GRACE_MS);
    if (id_p)
        *id_p = id;
    return HEARTH_OK;
}

/* ---------------------------------------------------------- public API */

hearth_client_t *
hearth_client_new (const char *endpoint)
{
    if (!endpoint || !*endpoint)
        return NULL;
    hearth_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    hearth_meta_writer_init (&self->writer);
    self->connect_timeout = S_CONNECT_TIMEOUT_MS;
    self->down_since = hearth_clock_ms ();
    self->next_id = 1;
    self->free_head = S_NONE;
    self->slots_mask = S_FLIGHTS_MIN * 2 - 1;
    self->slots = calloc (self->slots_mask + 1, sizeof *self->slots);
    self->heap = hearth_heap_new (s_flight_moved, self);
    self->ctx = zmq_ctx_new ();
    if (!self->slots || !self->heap || !self->ctx)
        goto failed;
    self->socket = zmq_socket (self->ctx, ZMQ_DEALER);
    self->monitor = zmq_socket (self->ctx, ZMQ_PAIR);
    if (!self->socket || !self->monitor)
        goto failed;
    int linger = 0;
    zmq_setsockopt (self->socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (self->monitor, ZMQ_LINGER, &linger, sizeof linger);
    /*  Bulk runs keep thousands of requests in flight; libzmq's default of
        1000 messages would refuse them locally. Same bound as the broker. */
    int hwm = 100000;
    zmq_setsockopt (self->socket, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->socket, ZMQ_RCVHWM, &hwm, sizeof hwm);
    /*  ZMTP heartbeats notice a broker that vanished without closing the
        connection (host gone, cable pulled), so its requests fail fast.   */
    int heartbeat = 1000, heartbeat_timeout = 5000;
    zmq_setsockopt (self->socket, ZMQ_HEARTBEAT_IVL, &heartbeat,
                    sizeof heartbeat);
    zmq_setsockopt (self->socket, ZMQ_HEARTBEAT_TIMEOUT, &heartbeat_timeout,
                    sizeof heartbeat_timeout);

    /*  The monitor is attached before connecting, so no event is missed.   */
    char address[64];
    snprintf (address, sizeof address, "inproc://hearth-client-monitor-%p",
              (void *) self);
    if (zmq_socket_monitor (self->socket, address,
                            ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED)
    ||  zmq_connect (self->monitor, address))
        goto failed;
    if (zmq_connect (self->socket, endpoint)) {
        hearth_log_debug ("client: cannot connect to %s: %s", endpoint,
                          zmq_strerror (errno));
        goto failed;
    }
    size_t fd_size = sizeof (int);
    if (zmq_getsockopt (self->socket, ZMQ_FD, &self->socket_fd, &fd_size)
    ||  zmq_getsockopt (self->monitor, ZMQ_FD, &self->monitor_fd, &fd_size))
        goto failed;
    return self;

failed:
    hearth_client_destroy (&self);
    return NULL;
}

void
hearth_client_destroy (hearth_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hearth_client_t *self = *self_p;
    if (self->socket)
        zmq_socket_monitor (self->socket, NULL, 0);
    if (self->monitor)
        zmq_close (self->monitor);
    if (self->socket)
        zmq_close (self->socket);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    hearth_reply_t *reply;
    while ((reply = s_ready_pop (self)))
        hearth_reply_destroy (&reply);
    hearth_reply_destroy (&self->waited);
    hearth_meta_writer_destroy (&self->writer);
    free (self->flights);
    hearth_heap_destroy (&self->heap);
    free (self->slots);
    free (self->name);
    free (self->version);
    free (self);
    *self_p = NULL;
}

void
hearth_client_set_name (hearth_client_t *self, const char *name,
                        const char *version)
{
    if (!self)
        return;
    free (self->name);
    free (self->version);
    self->name = name ? strdup (name) : NULL;
    self->version = version ? strdup (version) : NULL;
}

void
hearth_client_set_connect_timeout (hearth_client_t *self, int timeout_ms)
{
    if (self)
        self->connect_timeout = timeout_ms < 0 ? S_CONNECT_TIMEOUT_MS
                                               : timeout_ms;
}

int
hearth_client_send (hearth_client_t *self, const char *service,
                    const void *body, size_t size, int timeout_ms, int flags,
                    uint64_t *id_p)
{
    return s_send (self, service, body, size, timeout_ms, flags, id_p);
}

/*  The error a sync call returns for its reply.                            */
static int
s_reply_error (const hearth_reply_t *reply)
{
    if (reply->local && reply->status == HEARTH_STATUS_WORKER_LOST)
        return HEARTH_EBROKERLOST;
    return hearth_error_from_status (reply->status);
}

int
hearth_client_call (hearth_client_t *self, const char *service,
                    const void *body, size_t size, int timeout_ms, int flags,
                    hearth_reply_t **reply_p)
{
    if (reply_p)
        *reply_p = NULL;
    if (!self)
        return HEARTH_EINVAL;
    if (timeout_ms <= 0)
        timeout_ms = HEARTH_DEFAULT_DEADLINE_MS;
    int64_t start = hearth_clock_ms ();
    /*  Learn of a drop that happened since the last call before sending,
        so this request is not failed for it.                                */
    int rc = s_process (self, start);
    uint64_t id = 0;
    if (rc == HEARTH_OK)
        rc = s_send (self, service, body, size, timeout_ms, flags, &id);
    if (rc != HEARTH_OK)
        return rc;

    int64_t connect_deadline = start + s_min (self->connect_timeout,
                                              timeout_ms);
    self->waiting_id = id;
    while (!self->waited) {
        int64_t now = hearth_clock_ms ();
        rc = s_process (self, now);
        if (rc != HEARTH_OK || self->waited)
            break;
        if (!self->connected && now >= connect_deadline) {
            /*  Abandoned: if the broker appears later and answers, the
                reply is dropped as one to an unknown request.              */
            s_flight_take (self, id);
            rc = HEARTH_EUNREACHABLE;
            break;
        }
        int64_t until = s_min (s_flight_deadline (self, id),
                               s_earliest (self));
        if (!self->connected)
            until = s_min (until, connect_deadline);
        rc = s_wait (self, until);
        if (rc != HEARTH_OK)
            break;
    }
    self->waiting_id = 0;
    hearth_reply_t *reply = self->waited;
    self->waited = NULL;
    if (!reply) {
        s_flight_take (self, id);
        return rc;
    }
    rc = s_reply_error (reply);
    if (reply_p)
        *reply_p = reply;
    else
        hearth_reply_destroy (&reply);
    return rc;
}

int
hearth_client_recv (hearth_client_t *self, int wait_ms,
                    hearth_reply_t **reply_p)
{
    if (!self || !reply_p)
        return HEARTH_EINVAL;
    *reply_p = NULL;
    /*  Replies already read come first: under load one drain of the socket
        serves many calls, instead of two empty zmq reads per reply.         */
    if (self->ready_head) {
        *reply_p = s_ready_pop (self);
        return HEARTH_OK;
    }
    int64_t now = hearth_clock_ms ();
    int64_t end = wait_ms < 0 ? S_NEVER : now + wait_ms;
    while (true) {
        int rc = s_process (self, now);
        if (rc != HEARTH_OK)
            return rc;
        if (self->ready_head) {
            *reply_p = s_ready_pop (self);
            return HEARTH_OK;
        }
        if (s_in_flight (self) == 0)
            return HEARTH_EINVAL;
        int64_t connect_deadline = self->down_since + self->connect_timeout;
        if (!self->connected && now >= connect_deadline)
            return HEARTH_EUNREACHABLE;
        if (now >= end)
            return HEARTH_ETIMEOUT;
        int64_t until = s_min (end, s_earliest (self));
        if (!self->connected)
            until = s_min (until, connect_deadline);
        rc = s_wait (self, until);
        if (rc != HEARTH_OK)
            return rc;
        now = hearth_clock_ms ();
    }
}

size_t
hearth_client_pending (const hearth_client_t *self)
{
    return self ? s_in_flight (self) + self->ready_count : 0;
}

bool
hearth_client_connected (hearth_client_t *self)
{
    if (!self)
        return false;
    s_handle_monitor (self);
    return self->connected;
}

void *
hearth_client_socket (hearth_client_t *self)
{
    return self ? self->socket : NULL;
}
