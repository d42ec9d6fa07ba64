/*  hearth_meta - msgpack metadata maps: a bounds-checked scanner and a
    writer. See hearth_meta.h.
*/
#include "hearth_meta.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
s_be (const uint8_t *p, int width)
{
    uint64_t value = 0;
    for (int i = 0; i < width; i++)
        value = (value << 8) | p[i];
    return value;
}

/*  Reads the header of the object at p: its header length, the payload
    bytes that follow the header, and how many child objects follow (for
    arrays and maps). Returns 0, or -2 for the never-used byte 0xc1 or a
    header that runs past end.                                               */
static int
s_header (const uint8_t *p, const uint8_t *end, size_t *head, uint64_t *payload,
          uint64_t *children)
{
    uint8_t b = *p;
    size_t avail = (size_t) (end - p);
    int width = 0;              /* bytes of the length field */
    size_t extra = 0;           /* fixed bytes after the length (ext type) */
    *payload = 0;
    *children = 0;
    *head = 1;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 0;
    if (b >= 0x80 && b <= 0x8f) { *children = 2u * (b & 0x0f); return 0; }
    if (b >= 0x90 && b <= 0x9f) { *children = b & 0x0f; return 0; }
    if (b >= 0xa0 && b <= 0xbf) { *payload = b & 0x1f; return 0; }
    switch (b) {
        case 0xca: *payload = 4; return 0;
        case 0xcb: *payload = 8; return 0;
        case 0xcc: case 0xd0: *payload = 1; return 0;
        case 0xcd: case 0xd1: *payload = 2; return 0;
        case 0xce: case 0xd2: *payload = 4; return 0;
        case 0xcf: case 0xd3: *payload = 8; return 0;
        case 0xd4: *payload = 2; return 0;
        case 0xd5: *payload = 3; return 0;
        case 0xd6: *payload = 5; return 0;
        case 0xd7: *payload = 9; return 0;
        case 0xd8: *payload = 17; return 0;
        case 0xc4: case 0xd9: width = 1; break;
        case 0xc5: case 0xda: width = 2; break;
        case 0xc6: case 0xdb: width = 4; break;
        case 0xc7: width = 1; extra = 1; break;
        case 0xc8: width = 2; extra = 1; break;
        case 0xc9: width = 4; extra = 1; break;
        case 0xdc: width = 2; break;
        case 0xdd: width = 4; break;
        case 0xde: width = 2; break;
        case 0xdf: width = 4; break;
        default: return -2;     /* 0xc1 */
    }
    if (avail < 1 + (size_t) width)
        return -2;
    uint64_t n = s_be (p + 1, width);
    *head = 1 + (size_t) width;
    if (b >= 0xdc && b <= 0xdd)
        *children = n;
    else
    if (b >= 0xde)
        *children = 2 * n;
    else
        *payload = n + extra;
    return 0;
}

static int64_t
s_skip (const uint8_t *p, const uint8_t *end, int depth)
{
    if (p >= end || depth > HEARTH_META_DEPTH_MAX)
        return -2;
    size_t head;
    uint64_t payload, children;
    if (s_header (p, end, &head, &payload, &children))
        return -2;
    /*  A container is a level even when empty: the top map is level 1, so
        one at depth HEARTH_META_DEPTH_MAX would be level 17.               */
    bool container = (*p & 0xe0) == 0x80 || (*p >= 0xdc && *p <= 0xdf);
    if (container && depth >= HEARTH_META_DEPTH_MAX)
        return -2;
    if (payload > (uint64_t) (end - p) - head)
        return -2;
    const uint8_t *cursor = p + head + payload;
    /*  Each child takes at least one byte, so a hostile count fails as
        soon as the bytes run out: the loop is bounded by the buffer.        */
    for (uint64_t i = 0; i < children; i++) {
        int64_t size = s_skip (cursor, end, depth + 1);
        if (size < 0)
            return -2;
        cursor += size;
    }
    return cursor - p;
}

int64_t
hearth_meta_object_size (const void *data, size_t size)
{
    const uint8_t *p = data;
    return s_skip (p, p + size, 0);
}

int
hearth_meta_iter_init (hearth_meta_iter_t *self, const void *data, size_t size)
{
    const uint8_t *p = data;
    self->cursor = p;
    self->end = p + size;
    self->remaining = 0;
    if (size == 0)
        return 0;
    size_t head;
    uint64_t payload, children;
    uint8_t b = *p;
    bool is_map = (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
    if (!is_map || s_header (p, self->end, &head, &payload, &children))
        return -2;
    self->cursor = p + head;
    self->remaining = (uint32_t) (children / 2);
    return 0;
}

int
hearth_meta_iter_next (hearth_meta_iter_t *self, hearth_meta_entry_t *entry)
{
    if (self->remaining == 0)
        return self->cursor == self->end ? 0 : -2;
    const uint8_t *start = self->cursor;
    int64_t key_size = s_skip (start, self->end, 1);
    if (key_size < 0)
        return -2;
    int64_t value_size = s_skip (start + key_size, self->end, 1);
    if (value_size < 0)
        return -2;
    entry->entry = start;
    entry->entry_size = (size_t) (key_size + value_size);
    entry->value = start + key_size;
    entry->value_size = (size_t) value_size;
    entry->key = NULL;
    entry->key_len = 0;
    size_t head;
    uint64_t payload, children;
    uint8_t b = *start;
    if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb)) {
        s_header (start, self->end, &head, &payload, &children);
        entry->key = (const char *) start + head;
        entry->key_len = (size_t) payload;
    }
    self->cursor = start + entry->entry_size;
    self->remaining--;
    return 1;
}

int
hearth_meta_validate (const void *data, size_t size)
{
    hearth_meta_iter_t iter;
    hearth_meta_entry_t entry;
    if (hearth_meta_iter_init (&iter, data, size))
        return -2;
    int rc;
    while ((rc = hearth_meta_iter_next (&iter, &entry)) == 1)
        ;
    return rc;
}

bool
hearth_meta_key_is (const hearth_meta_entry_t *entry, const char *key)
{
    size_t len = strlen (key);
    return entry->key && entry->key_len == len
        && memcmp (entry->key, key, len) == 0;
}

int
hearth_meta_find (const void *data, size_t size, const char *key,
                  hearth_meta_entry_t *entry)
{
    hearth_meta_iter_t iter;
    if (hearth_meta_iter_init (&iter, data, size))
        return -2;
    int rc;
    while ((rc = hearth_meta_iter_next (&iter, entry)) == 1)
        if (hearth_meta_key_is (entry, key))
            return 1;
    return rc;
}

int
hearth_meta_value_uint (const hearth_meta_entry_t *entry, uint64_t *value)
{
    const uint8_t *v = entry->value;
    uint8_t b = v[0];
    if (b <= 0x7f)
        *value = b;
    else
    if (b >= 0xcc && b <= 0xcf)
        *value = s_be (v + 1, 1 << (b - 0xcc));
    else
    if (b >= 0xd0 && b <= 0xd3) {
        /*  Signed encodings are fine if the value is not negative: some
            packers use them for small numbers.                              */
        int width = 1 << (b - 0xd0);
        uint64_t raw = s_be (v + 1, width);
        if (raw >> (width * 8 - 1))
            return -1;
        *value = raw;
    }
    else
        return -1;
    return 0;
}

int
hearth_meta_value_bool (const hearth_meta_entry_t *entry, bool *value)
{
    uint8_t b = entry->value[0];
    if (b != 0xc2 && b != 0xc3)
        return -1;
    *value = b == 0xc3;
    return 0;
}

int
hearth_meta_value_str (const hearth_meta_entry_t *entry, const char **str,
                       size_t *len)
{
    const uint8_t *v = entry->value;
    uint8_t b = v[0];
    if (!((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb)))
        return -1;
    size_t head;
    uint64_t payload, children;
    s_header (v, v + entry->value_size, &head, &payload, &children);
    *str = (const char *) v + head;
    *len = (size_t) payload;
    return 0;
}

/* ---------------------------------------------------------------- writer */

void
hearth_meta_writer_init (hearth_meta_writer_t *self)
{
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    self->count = 0;
}

void
hearth_meta_writer_destroy (hearth_meta_writer_t *self)
{
    msgpack_sbuffer_destroy (&self->buffer);
    self->count = 0;
}

void
hearth_meta_writer_reset (hearth_meta_writer_t *self)
{
    self->buffer.size = 0;
    self->count = 0;
}

static void
s_put_key (hearth_meta_writer_t *self, const char *key)
{
    size_t len = strlen (key);
    msgpack_pack_str (&self->packer, len);
    msgpack_pack_str_body (&self->packer, key, len);
    self->count++;
}

void
hearth_meta_put_uint (hearth_meta_writer_t *self, const char *key,
                      uint64_t value)
{
    s_put_key (self, key);
    msgpack_pack_uint64 (&self->packer, value);
}

void
hearth_meta_put_bool (hearth_meta_writer_t *self, const char *key, bool value)
{
    s_put_key (self, key);
    if (value)
        msgpack_pack_true (&self->packer);
    else
        msgpack_pack_false (&self->packer);
}

void
hearth_meta_put_strn (hearth_meta_writer_t *self, const char *key,
                      const char *value, size_t len)
{
    s_put_key (self, key);
    msgpack_pack_str (&self->packer, len);
    msgpack_pack_str_body (&self->packer, value, len);
}

void
hearth_meta_put_str (hearth_meta_writer_t *self, const char *key,
                     const char *value)
{
    hearth_meta_put_strn (self, key, value, strlen (value));
}

void
hearth_meta_put_raw (hearth_meta_writer_t *self, const char *key,
                     const void *value, size_t size)
{
    s_put_key (self, key);
    msgpack_sbuffer_write (&self->buffer, value, size);
}

static bool
s_skipped (const hearth_meta_entry_t *entry, const char *const *skip)
{
    for (; skip && *skip; skip++)
        if (hearth_meta_key_is (entry, *skip))
            return true;
    return false;
}

int
hearth_meta_copy (hearth_meta_writer_t *self, const void *data, size_t size,
                  const char *const *skip)
{
    if (hearth_meta_validate (data, size))
        return -2;
    hearth_meta_iter_t iter;
    hearth_meta_entry_t entry;
    hearth_meta_iter_init (&iter, data, size);
    while (hearth_meta_iter_next (&iter, &entry) == 1)
        if (!s_skipped (&entry, skip)) {
            msgpack_sbuffer_write (&self->buffer, (const char *) entry.entry,
                                   entry.entry_size);
            self->count++;
        }
    return 0;
}

/*  The smallest map header for count, written into head; returns its size. */
static size_t
s_map_header (uint32_t count, uint8_t *head)
{
    if (count < 16) {
        head[0] = (uint8_t) (0x80 | count);
        return 1;
    }
    if (count < 65536) {
        head[0] = 0xde;
        head[1] = (uint8_t) (count >> 8);
        head[2] = (uint8_t) count;
        return 3;
    }
    head[0] = 0xdf;
    for (int i = 0; i < 4; i++)
        head[1 + i] = (uint8_t) (count >> (24 - 8 * i));
    return 5;
}

int
hearth_meta_writer_to_msg (hearth_meta_writer_t *self, zmq_msg_t *msg)
{
    uint8_t head[5];
    size_t head_size = s_map_header (self->count, head);
    if (zmq_msg_init_size (msg, head_size + self->buffer.size))
        return -1;
    uint8_t *out = zmq_msg_data (msg);
    memcpy (out, head, head_size);
    if (self->buffer.size)
        memcpy (out + head_size, self->buffer.data, self->buffer.size);
    return 0;
}

void *
hearth_meta_writer_to_buffer (hearth_meta_writer_t *self, size_t *size)
{
    uint8_t head[5];
    size_t head_size = s_map_header (self->count, head);
    uint8_t *out = malloc (head_size + self->buffer.size + 1);
    if (!out)
        return NULL;
    memcpy (out, head, head_size);
    if (self->buffer.size)
        memcpy (out + head_size, self->buffer.data, self->buffer.size);
    *size = head_size + self->buffer.size;
    return out;
}
