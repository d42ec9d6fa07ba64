/*  hearth_wire - multipart ZeroMQ messages without per-frame allocation.

    A received message is a fixed array of zmq_msg_t: no heap work per
    frame, and bodies can be moved into an outgoing message without a copy.
    Sends never block: they use ZMQ_DONTWAIT, so a slow or vanished peer
    shows up as an error the caller must handle (EAGAIN, EHOSTUNREACH with
    ZMQ_ROUTER_MANDATORY) instead of stalling everyone else.
*/
#ifndef HEARTH_WIRE_H_INCLUDED
#define HEARTH_WIRE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>
#include "hearth/hearth_proto.h"

/*  Frames of a message the receiver keeps. The longest message either
    protocol allows is an MDP worker's REPLY as the ROUTER delivers it:
    identity, delimiter, header, command, client address, empty, and
    HEARTH_MDP_BODY_MAX body frames.                                          */
#define HEARTH_FRAMES_MAX (6 + HEARTH_MDP_BODY_MAX)

/*  One received message. Frames past HEARTH_FRAMES_MAX, or past a byte
    bound, are read and closed as they come, so the next message starts
    clean and a message that will be refused holds no more than its first
    frames; such a message is marked truncated.                               */
typedef struct {
    zmq_msg_t frame[HEARTH_FRAMES_MAX];
    int count;                  /* frames kept, the message's first ones    */
    size_t frames;              /* frames in the message, dropped ones too  */
    size_t total;               /* bytes across all frames, dropped ones too*/
    bool truncated;             /* frames > count                          */
} hearth_frames_t;

/*  Receives one whole multipart message. flags may be ZMQ_DONTWAIT.
    Returns 0, or -1 with errno set (EAGAIN, EINTR, ...) and nothing held.  */
int hearth_frames_recv (hearth_frames_t *self, void *socket, int flags);
/*  Likewise, but once the frames kept hold more than max_bytes the rest are
    not kept (the frame that crosses the bound still is).                     */
int hearth_frames_recv_bounded (hearth_frames_t *self, void *socket, int flags,
                                size_t max_bytes);
/*  Closes every frame still held. Idempotent.                              */
void hearth_frames_close (hearth_frames_t *self);

static inline const void *
hearth_frames_data (hearth_frames_t *self, int index)
{
    return zmq_msg_data (&self->frame[index]);
}

static inline size_t
hearth_frames_size (hearth_frames_t *self, int index)
{
    return zmq_msg_size (&self->frame[index]);
}

/*  True if frame index exists and equals the NUL-terminated str.           */
bool hearth_frames_is (hearth_frames_t *self, int index, const char *str);
/*  The command byte in frame index, or -1 if that frame is not one byte.   */
int hearth_frames_command (hearth_frames_t *self, int index);

/*  One part of an outgoing message: either bytes to copy (msg NULL) or a
    frame to move (msg set; taken whatever the outcome).                     */
typedef struct {
    const void *data;
    size_t size;
    zmq_msg_t *msg;
} hearth_part_t;

#define HEARTH_PART_BYTES(d, n) ((hearth_part_t) { (d), (n), NULL })
#define HEARTH_PART_STR(s) ((hearth_part_t) { (s), sizeof (s) - 1, NULL })
#define HEARTH_PART_MSG(m) ((hearth_part_t) { NULL, 0, (m) })
#define HEARTH_PART_EMPTY ((hearth_part_t) { "", 0, NULL })

/*  Sends count parts as one message, never blocking. Every moved frame is
    consumed. Returns 0, or -1 with errno from libzmq; ZeroMQ delivers
    multipart messages atomically, so a failure on the first frame means
    nothing went out.                                                         */
int hearth_wire_send (void *socket, hearth_part_t *parts, int count);

/*  Writes a status code as its three ASCII digits into out[3].             */
void hearth_wire_status_encode (int status, char out[3]);
/*  Reads a three-digit status frame; returns 100..599, or -1 if invalid.  */
int hearth_wire_status_decode (const void *data, size_t size);

#endif
