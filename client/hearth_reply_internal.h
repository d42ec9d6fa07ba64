/*  hearth_reply_internal - how the client builds and queues replies.

    Not installed: the reply's layout is private to libhearth. A reply owns
    its metadata and body frames (moved, not copied, from the received
    message) and one allocation holds the struct and its NUL-terminated
    error text, so a reply costs a single malloc.
*/
#ifndef HEARTH_REPLY_INTERNAL_H_INCLUDED
#define HEARTH_REPLY_INTERNAL_H_INCLUDED

#include "hearth/hearth.h"
#include <zmq.h>

struct _hearth_reply_t {
    hearth_reply_t *next;       /* the client's queue of ready replies      */
    uint64_t id;
    int status;
    bool local;                 /* made by the library, not the broker      */
    zmq_msg_t meta;
    zmq_msg_t body;
    const char *error;          /* into text[], or NULL                     */
    char text[];
};

/*  Makes a reply from received frames. meta and body are moved into the
    reply (the caller's messages are left empty) on success only. meta must
    already be validated as a msgpack map. Returns NULL out of memory.      */
hearth_reply_t *hearth_reply_new (uint64_t id, int status, zmq_msg_t *meta,
                                  zmq_msg_t *body);

/*  Makes a reply on the library's own behalf (status 502, 504 ...) with an
    empty body and metadata {error: error}. Returns NULL out of memory.     */
hearth_reply_t *hearth_reply_new_local (uint64_t id, int status,
                                        const char *error);

#endif
