/*  hearth_wire - multipart messages over fixed frame arrays. */
#include "hearth_wire.h"

#include <errno.h>
#include <string.h>

int
hearth_frames_recv (hearth_frames_t *self, void *socket, int flags)
{
    self->count = 0;
    self->truncated = false;
    self->total = 0;
    while (true) {
        zmq_msg_t *frame = &self->frame[self->count < HEARTH_FRAMES_MAX
                                        ? self->count : HEARTH_FRAMES_MAX - 1];
        if (self->count >= HEARTH_FRAMES_MAX) {
            /*  Over the cap: reuse the last slot as scratch to drain the
                rest of the message, and remember it was cut.               */
            zmq_msg_close (frame);
            self->truncated = true;
            self->count = HEARTH_FRAMES_MAX - 1;
        }
        zmq_msg_init (frame);
        /*  Only the first frame may wait: the rest of a multipart message
            has arrived with it.                                             */
        if (zmq_msg_recv (frame, socket, self->count == 0 && !self->truncated
                                         ? flags : 0) < 0) {
            int saved = errno;
            zmq_msg_close (frame);
            hearth_frames_close (self);
            errno = saved;
            return -1;
        }
        self->count++;
        self->total += zmq_msg_size (frame);
        if (!zmq_msg_more (frame))
            return 0;
    }
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
