/*  hw_framing - how hearth-worker cuts a child's byte stream into messages.

    Two framings, the same in both directions (schemas/WORKER.md):
    - line:   the body, then "\n". A reply is one line; a trailing "\r" is
              dropped. An empty line is garbage, and so is a line longer
              than the limit. Bodies that contain "\n" cannot be sent.
    - length: a 4-byte big-endian length, then that many bytes. Binary-safe.
              A length above the limit is garbage.

    Pure functions over caller-owned buffers, so they are unit-tested
    without processes (tests/host/test_framing.c).
*/
#ifndef HW_FRAMING_H_INCLUDED
#define HW_FRAMING_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    HW_FRAMING_LINE = 0,
    HW_FRAMING_LENGTH
} hw_framing_t;

#define HW_FRAMING_HEADER_MAX 4

/*  Parses "line" or "length" into *framing. Returns 0, or -1 if neither.   */
int hw_framing_parse (const char *name, hw_framing_t *framing);
/*  "line" or "length".                                                     */
const char *hw_framing_name (hw_framing_t framing);

/*  0 if body can be sent in this framing, -1 if not (line framing and the
    body contains a newline).                                                */
int hw_framing_check (hw_framing_t framing, const void *body, size_t size);

/*  The bytes to write before and after a body of size bytes: header gets
    up to HW_FRAMING_HEADER_MAX bytes, *header_size and *trailer/
    *trailer_size are set (trailer points to static storage).               */
void hw_framing_wrap (hw_framing_t framing, size_t size,
                      uint8_t header[HW_FRAMING_HEADER_MAX],
                      size_t *header_size, const char **trailer,
                      size_t *trailer_size);

/*  Looks for one complete message at the start of data (size bytes read so
    far). Returns 1 with the payload at data + *offset, *length bytes long,
    and *consumed bytes to drop from the buffer; 0 if more bytes are needed;
    -2 if the stream is garbage here (empty line, or longer than max).       */
int hw_framing_next (hw_framing_t framing, const uint8_t *data, size_t size,
                     size_t max, size_t *offset, size_t *length,
                     size_t *consumed);

#endif
