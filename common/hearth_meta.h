/*  hearth_meta - the msgpack metadata maps carried by Hearth messages.

    Reading is a zero-allocation scan over the frame's bytes that checks
    every read against the end of the buffer, caps nesting depth and never
    trusts a length: metadata arrives from the network. Views returned by
    the reader point into the caller's buffer and are not NUL-terminated:
    copy them before the buffer goes.

    Writing uses msgpack-c's packer; entries may be copied raw from another
    map, which is how the broker forwards keys it does not know.
*/
#ifndef HEARTH_META_H_INCLUDED
#define HEARTH_META_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include <zmq.h>

#define HEARTH_META_DEPTH_MAX 16

typedef struct {
    const char *key;            /* NULL if the key is not a string          */
    size_t key_len;
    const uint8_t *value;       /* raw msgpack bytes of the value           */
    size_t value_size;
    const uint8_t *entry;       /* raw bytes of key and value together      */
    size_t entry_size;
} hearth_meta_entry_t;

typedef struct {
    const uint8_t *cursor;
    const uint8_t *end;
    uint32_t remaining;         /* entries not yet read                     */
} hearth_meta_iter_t;

/*  Starts reading a map. An empty buffer reads as an empty map. Returns 0,
    or -2 if the buffer does not start with a msgpack map.                   */
int hearth_meta_iter_init (hearth_meta_iter_t *self, const void *data,
                           size_t size);
/*  Reads the next entry: 1 with *entry set, 0 at the end of the map (and
    -2 if bytes follow it), -2 on malformed input.                          */
int hearth_meta_iter_next (hearth_meta_iter_t *self,
                           hearth_meta_entry_t *entry);

/*  0 if data is empty or exactly one well-formed map, else -2.             */
int hearth_meta_validate (const void *data, size_t size);
/*  Finds key: 1 found (entry set), 0 absent, -2 malformed.                 */
int hearth_meta_find (const void *data, size_t size, const char *key,
                      hearth_meta_entry_t *entry);
/*  True if the entry's key equals key.                                      */
bool hearth_meta_key_is (const hearth_meta_entry_t *entry, const char *key);

/*  Decoders for an entry's value: 0, or -1 if the type does not fit.       */
int hearth_meta_value_uint (const hearth_meta_entry_t *entry, uint64_t *value);
int hearth_meta_value_bool (const hearth_meta_entry_t *entry, bool *value);
int hearth_meta_value_str (const hearth_meta_entry_t *entry, const char **str,
                           size_t *len);

/*  Length in bytes of the one msgpack object at data, or -2 if malformed
    or truncated (depth limited to HEARTH_META_DEPTH_MAX).                  */
int64_t hearth_meta_object_size (const void *data, size_t size);

/*  Writer. Entries are appended in order; the map header is written by
    the finishing call.                                                     */
typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    uint32_t count;
} hearth_meta_writer_t;

void hearth_meta_writer_init (hearth_meta_writer_t *self);
void hearth_meta_writer_destroy (hearth_meta_writer_t *self);
void hearth_meta_put_uint (hearth_meta_writer_t *self, const char *key,
                           uint64_t value);
void hearth_meta_put_bool (hearth_meta_writer_t *self, const char *key,
                           bool value);
void hearth_meta_put_str (hearth_meta_writer_t *self, const char *key,
                          const char *value);
void hearth_meta_put_strn (hearth_meta_writer_t *self, const char *key,
                           const char *value, size_t len);
/*  Puts a value that is already msgpack-encoded (not checked).             */
void hearth_meta_put_raw (hearth_meta_writer_t *self, const char *key,
                          const void *value, size_t size);
/*  Copies every entry of the map in data whose key is not in skip (a NULL-
    terminated list, or NULL). Returns 0, or -2 if data is malformed, in
    which case nothing was copied.                                           */
int hearth_meta_copy (hearth_meta_writer_t *self, const void *data,
                      size_t size, const char *const *skip);
/*  Writes the finished map into msg (initialised here; caller closes it).
    Returns 0, or -1 if out of memory. The writer may then be reused after
    hearth_meta_writer_reset.                                                */
int hearth_meta_writer_to_msg (hearth_meta_writer_t *self, zmq_msg_t *msg);
/*  Returns the finished map as a malloc'd buffer (caller frees), or NULL.  */
void *hearth_meta_writer_to_buffer (hearth_meta_writer_t *self, size_t *size);
void hearth_meta_writer_reset (hearth_meta_writer_t *self);

#endif
