/*  hearth_wire - multipart messages over fixed frame arrays. */
#include "hearth_wire.h"

#include <errno.h>
#include <string.h>

int
hearth_frames_recv_bounded (hearth_frames_t *self, void *socket, int flags,
                            size_t max_bytes)
{
    self->count = 0;
    self->frames = 0;
    self->total = 0;
    self->truncated = false;
    zmq_msg_t scratch;
    while (true) {
        /*  A frame past the cap or the bound is closed as soon as it is
            read: the message will be refused, and refusing it needs only
            its first frames.                                                */
        bool keep = self->count < HEARTH_FRAMES_MAX && self->total <= max_bytes;
        zmq_msg_t *frame = keep ? &self->frame[self->count] : &scratch;
        zmq_msg_init (frame);
        /*  Only the first frame may wait: libzmq hands a multipart message
            over only once all of it has arrived.                            */
        if (zmq_msg_recv (frame, socket, self->frames == 0 ? flags : 0) < 0) {
            int saved = errno;
            zmq_msg_close (frame);
            hearth_frames_close (self);
            errno = saved;
            return -1;
        }
        self->frames++;
        self->total += zmq_msg_size (frame);
        bool more = zmq_msg_more (frame);
        if (keep)
            self->count++;
        else {
            zmq_msg_close (frame);
            self->truncated = true;
        }
        if (!more)
            return 0;
    }
}

int
hearth_frames_recv (hearth_frames_t *self, void *socket, int flags)
{
    return hearth_frames_recv_bounded (self, socket, flags, SIZE_MAX);
}

void
hearth_frames_close (hearth_frames_t *self)
{
    for (int i = 0; i < self->count; i++)
        zmq_msg_close (&self->frame[i]);
    self->count = 0;
}

bool
hearth_frames_is (hearth_frames_t *self, int index, const char *str)
{
    if (index >= self->count)
        return false;
    size_t len = strlen (str);
    return hearth_frames_size (self, index) == len
        && memcmp (hearth_frames_data (self, index), str, len) == 0;
}

int
hearth_frames_command (hearth_frames_t *self, int index)
{
    if (index >= self->count || hearth_frames_size (self, index) != 1)
        return -1;
    return *(const uint8_t *) hearth_frames_data (self, index);
}

static void
s_consume_rest (hearth_part_t *parts, int from, int count)
{
    for (int i = from; i < count; i++)
        if (parts[i].msg)
            zmq_msg_close (parts[i].msg);
}

int
hearth_wire_send (void *socket, hearth_part_t *parts, int count)
{
    for (int i = 0; i < count; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < count ? ZMQ_SNDMORE : 0);
        zmq_msg_t copy, *frame = parts[i].msg;
        if (!frame) {
            if (zmq_msg_init_size (&copy, parts[i].size)) {
                s_consume_rest (parts, i + 1, count);
                return -1;
            }
            if (parts[i].size)
                memcpy (zmq_msg_data (&copy), parts[i].data, parts[i].size);
            frame = &copy;
        }
        if (zmq_msg_send (frame, socket, flags) < 0) {
            int saved = errno;
            zmq_msg_close (frame);
            s_consume_rest (parts, i + 1, count);
            errno = saved;
            return -1;
        }
    }
    return 0;
}

void
hearth_wire_status_encode (int status, char out[3])
{
    if (status < 100 || status > 599)
        status = 500;
    out[0] = (char) ('0' + status / 100);
    out[1] = (char) ('0' + status / 10 % 10);
    out[2] = (char) ('0' + status % 10);
}

int
hearth_wire_status_decode (const void *data, size_t size)
{
    const unsigned char *d = data;
    if (size != 3)
        return -1;
    for (int i = 0; i < 3; i++)
        if (d[i] < '0' || d[i] > '9')
            return -1;
    int status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    return status >= 100 && status <= 599 ? status : -1;
}
