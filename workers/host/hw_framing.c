/*  hw_framing - line and length framing of a child's stdin and stdout.     */
#include "hw_framing.h"

#include <string.h>

int
hw_framing_parse (const char *name, hw_framing_t *framing)
{
    if (name && strcmp (name, "line") == 0)
        *framing = HW_FRAMING_LINE;
    else
    if (name && strcmp (name, "length") == 0)
        *framing = HW_FRAMING_LENGTH;
    else
        return -1;
    return 0;
}

const char *
hw_framing_name (hw_framing_t framing)
{
    return framing == HW_FRAMING_LENGTH ? "length" : "line";
}

int
hw_framing_check (hw_framing_t framing, const void *body, size_t size)
{
    if (framing == HW_FRAMING_LINE && size > 0 && memchr (body, '\n', size))
        return -1;
    return 0;
}

void
hw_framing_wrap (hw_framing_t framing, size_t size,
                 uint8_t header[HW_FRAMING_HEADER_MAX], size_t *header_size,
                 const char **trailer, size_t *trailer_size)
{
    if (framing == HW_FRAMING_LENGTH) {
        /*  Callers never send 4 GiB: bodies are capped by max_message.    */
        uint32_t length = (uint32_t) size;
        header[0] = (uint8_t) (length >> 24);
        header[1] = (uint8_t) (length >> 16);
        header[2] = (uint8_t) (length >> 8);
        header[3] = (uint8_t) length;
        *header_size = 4;
        *trailer = "";
        *trailer_size = 0;
    }
    else {
        *header_size = 0;
        *trailer = "\n";
        *trailer_size = 1;
    }
}

static int
s_next_line (const uint8_t *data, size_t size, size_t max, size_t *offset,
             size_t *length, size_t *consumed)
{
    /*  Look no further than max + 2 bytes ("\r\n"): a longer line is
        garbage whatever follows, and we must not buffer it forever.        */
    size_t scan = size < max + 2 ? size : max + 2;
    if (scan == 0)
        return 0;                       /* memchr wants a real pointer     */
    const uint8_t *newline = memchr (data, '\n', scan);
    if (!newline)
        return size >= max + 2 ? -2 : 0;
    size_t line = (size_t) (newline - data);
    *consumed = line + 1;
    if (line > 0 && data[line - 1] == '\r')
        line--;
    if (line == 0 || line > max)
        return -2;
    *offset = 0;
    *length = line;
    return 1;
}

static int
s_next_length (const uint8_t *data, size_t size, size_t max, size_t *offset,
               size_t *length, size_t *consumed)
{
    if (size < 4)
        return 0;
    uint64_t payload = (uint64_t) data[0] << 24 | (uint64_t) data[1] << 16
                     | (uint64_t) data[2] << 8 | (uint64_t) data[3];
    if (payload > max)
        return -2;
    if (size - 4 < payload)
        return 0;
    *offset = 4;
    *length = (size_t) payload;
    *consumed = 4 + (size_t) payload;
    return 1;
}

int
hw_framing_next (hw_framing_t framing, const uint8_t *data, size_t size,
                 size_t max, size_t *offset, size_t *length, size_t *consumed)
{
    *offset = *length = *consumed = 0;
    return framing == HW_FRAMING_LENGTH
         ? s_next_length (data, size, max, offset, length, consumed)
         : s_next_line (data, size, max, offset, length, consumed);
}
