/*  hearth_reply - a reply received by a client. See hearth.h and
    hearth_reply_internal.h.
*/
#include "hearth_reply_internal.h"
#include "hearth_meta.h"

#include <stdlib.h>
#include <string.h>

/*  Allocates the reply with room for error_len bytes of error text, which
    is copied from error (not NUL-terminated) when error is not NULL.       */
static hearth_reply_t *
s_reply_alloc (uint64_t id, int status, const char *error, size_t error_len)
{
    hearth_reply_t *self = malloc (sizeof *self + (error ? error_len + 1 : 0));
    if (!self)
        return NULL;
    self->next = NULL;
    self->id = id;
    self->status = status;
    self->local = false;
    self->error = NULL;
    if (error) {
        memcpy (self->text, error, error_len);
        self->text[error_len] = '\0';
        self->error = self->text;
    }
    return self;
}

hearth_reply_t *
hearth_reply_new (uint64_t id, int status, zmq_msg_t *meta, zmq_msg_t *body)
{
    const char *error = NULL;
    size_t error_len = 0;
    hearth_meta_entry_t entry;
    if (hearth_meta_find (zmq_msg_data (meta), zmq_msg_size (meta),
                          HEARTH_META_ERROR, &entry) == 1
    &&  hearth_meta_value_str (&entry, &error, &error_len) != 0)
        error = NULL;           /* an "error" that is not a string: ignored */
    hearth_reply_t *self = s_reply_alloc (id, status, error, error_len);
    if (!self)
        return NULL;
    zmq_msg_init (&self->meta);
    zmq_msg_init (&self->body);
    zmq_msg_move (&self->meta, meta);
    zmq_msg_move (&self->body, body);
    return self;
}

hearth_reply_t *
hearth_reply_new_local (uint64_t id, int status, const char *error)
{
    hearth_reply_t *self = s_reply_alloc (id, status, error, strlen (error));
    if (!self)
        return NULL;
    self->local = true;
    hearth_meta_writer_t writer;
    hearth_meta_writer_init (&writer);
    hearth_meta_put_str (&writer, HEARTH_META_ERROR, error);
    int rc = hearth_meta_writer_to_msg (&writer, &self->meta);
    hearth_meta_writer_destroy (&writer);
    if (rc) {
        free (self);
        return NULL;
    }
    zmq_msg_init (&self->body);
    return self;
}

void
hearth_reply_destroy (hearth_reply_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hearth_reply_t *self = *self_p;
    zmq_msg_close (&self->meta);
    zmq_msg_close (&self->body);
    free (self);
    *self_p = NULL;
}

uint64_t
hearth_reply_id (const hearth_reply_t *self)
{
    return self->id;
}

int
hearth_reply_status (const hearth_reply_t *self)
{
    return self->status;
}

/*  zmq_msg_data and zmq_msg_size take a non-const message, though they do
    not change it.                                                           */
static const void *
s_frame (const zmq_msg_t *frame, size_t *size)
{
    zmq_msg_t *msg = (zmq_msg_t *) frame;
    if (size)
        *size = zmq_msg_size (msg);
    /*  An empty frame may have a NULL data pointer: the API promises
        never NULL.                                                          */
    return zmq_msg_size (msg) ? zmq_msg_data (msg) : "";
}

const void *
hearth_reply_body (const hearth_reply_t *self, size_t *size)
{
    return s_frame (&self->body, size);
}

const char *
hearth_reply_error (const hearth_reply_t *self)
{
    return self->error;
}

const void *
hearth_reply_meta (const hearth_reply_t *self, size_t *size)
{
    return s_frame (&self->meta, size);
}

int64_t
hearth_reply_meta_uint (const hearth_reply_t *self, const char *key)
{
    size_t size;
    const void *meta = hearth_reply_meta (self, &size);
    hearth_meta_entry_t entry;
    uint64_t value;
    if (!key || hearth_meta_find (meta, size, key, &entry) != 1
    ||  hearth_meta_value_uint (&entry, &value) != 0
    ||  value > INT64_MAX)
        return -1;
    return (int64_t) value;
}

const char *
hearth_reply_meta_str (const hearth_reply_t *self, const char *key,
                       char *buf, size_t bufsize)
{
    size_t size;
    const void *meta = hearth_reply_meta (self, &size);
    hearth_meta_entry_t entry;
    const char *str;
    size_t len;
    if (!key || !buf || bufsize == 0
    ||  hearth_meta_find (meta, size, key, &entry) != 1
    ||  hearth_meta_value_str (&entry, &str, &len) != 0)
        return NULL;
    if (len >= bufsize)
        len = bufsize - 1;      /* truncated, as snprintf would */
    memcpy (buf, str, len);
    buf[len] = '\0';
    return buf;
}
