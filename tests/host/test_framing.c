/*  Unit test of hw_framing: line and length framing, both directions.    */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hw_framing.h"
#include "hearth_test.h"

static int
s_next (hw_framing_t framing, const char *data, size_t size, size_t max,
        size_t *offset, size_t *length, size_t *consumed)
{
    return hw_framing_next (framing, (const uint8_t *) data, size, max,
                            offset, length, consumed);
}

static void
test_names (void)
{
    hw_framing_t f;
    CHECK (hw_framing_parse ("line", &f) == 0 && f == HW_FRAMING_LINE);
    CHECK (hw_framing_parse ("length", &f) == 0 && f == HW_FRAMING_LENGTH);
    CHECK (hw_framing_parse ("xml", &f) == -1);
    CHECK (hw_framing_parse (NULL, &f) == -1);
    CHECK_STR (hw_framing_name (HW_FRAMING_LENGTH), "length");
}

static void
test_line (void)
{
    size_t off, len, used;
    CHECK (hw_framing_check (HW_FRAMING_LINE, "abc", 3) == 0);
    CHECK (hw_framing_check (HW_FRAMING_LINE, "a\nc", 3) == -1);
    CHECK (hw_framing_check (HW_FRAMING_LINE, "", 0) == 0);
    uint8_t header[HW_FRAMING_HEADER_MAX];
    size_t header_size, trailer_size;
    const char *trailer;
    hw_framing_wrap (HW_FRAMING_LINE, 3, header, &header_size, &trailer,
                     &trailer_size);
    CHECK (header_size == 0 && trailer_size == 1 && trailer[0] == '\n');

    CHECK (s_next (HW_FRAMING_LINE, "hel", 3, 100, &off, &len, &used) == 0);
    CHECK (s_next (HW_FRAMING_LINE, "hello\nnext", 10, 100, &off, &len, &used) == 1);
    CHECK (off == 0 && len == 5 && used == 6);
    CHECK (s_next (HW_FRAMING_LINE, "hi\r\n", 4, 100, &off, &len, &used) == 1);
    CHECK (len == 2 && used == 4);
    /*  An empty line is garbage, with or without "\r".                     */
    CHECK (s_next (HW_FRAMING_LINE, "\nx", 2, 100, &off, &len, &used) == -2);
    CHECK (s_next (HW_FRAMING_LINE, "\r\n", 2, 100, &off, &len, &used) == -2);
    /*  Longer than max: garbage once we know, complete or not.             */
    CHECK (s_next (HW_FRAMING_LINE, "abcdef\n", 7, 5, &off, &len, &used) == -2);
    CHECK (s_next (HW_FRAMING_LINE, "abcdefgh", 8, 5, &off, &len, &used) == -2);
    CHECK (s_next (HW_FRAMING_LINE, "abcde\n", 6, 5, &off, &len, &used) == 1);
    CHECK (s_next (HW_FRAMING_LINE, "abcde\r\n", 7, 5, &off, &len, &used) == 1);
    CHECK (s_next (HW_FRAMING_LINE, "abcdef", 6, 5, &off, &len, &used) == 0);
}

static void
test_length (void)
{
    size_t off, len, used;
    CHECK (hw_framing_check (HW_FRAMING_LENGTH, "a\nc", 3) == 0);
    uint8_t header[HW_FRAMING_HEADER_MAX];
    size_t header_size, trailer_size;
    const char *trailer;
    hw_framing_wrap (HW_FRAMING_LENGTH, 0x01020304, header, &header_size,
                     &trailer, &trailer_size);
    CHECK (header_size == 4 && trailer_size == 0);
    CHECK (header[0] == 1 && header[1] == 2 && header[2] == 3 && header[3] == 4);

    const char frame[] = "\0\0\0\5a\nb\0cNEXT";
    CHECK (s_next (HW_FRAMING_LENGTH, frame, 3, 100, &off, &len, &used) == 0);
    CHECK (s_next (HW_FRAMING_LENGTH, frame, 8, 100, &off, &len, &used) == 0);
    REQUIRE (s_next (HW_FRAMING_LENGTH, frame, 13, 100, &off, &len, &used) == 1);
    CHECK (off == 4 && len == 5 && used == 9);
    CHECK (memcmp (frame + off, "a\nb\0c", 5) == 0);
    /*  A zero-length message is valid: binary-safe means empty too.       */
    CHECK (s_next (HW_FRAMING_LENGTH, "\0\0\0\0", 4, 100, &off, &len, &used) == 1);
    CHECK (len == 0 && used == 4);
    /*  A length over the limit is garbage before any payload arrives.     */
    CHECK (s_next (HW_FRAMING_LENGTH, "\xff\xff\xff\xff", 4, 100, &off, &len,
                   &used) == -2);
    CHECK (s_next (HW_FRAMING_LENGTH, "\0\0\0\x65", 4, 100, &off, &len,
                   &used) == -2);
    CHECK (s_next (HW_FRAMING_LENGTH, "\0\0\0\x64", 4, 100, &off, &len,
                   &used) == 0);

    /*  Round trip: what wrap writes, next reads back.                      */
    uint8_t buffer[64];
    const char *body = "x\ny\0z";
    hw_framing_wrap (HW_FRAMING_LENGTH, 5, header, &header_size, &trailer,
                     &trailer_size);
    memcpy (buffer, header, header_size);
    memcpy (buffer + header_size, body, 5);
    REQUIRE (hw_framing_next (HW_FRAMING_LENGTH, buffer, header_size + 5, 100,
                              &off, &len, &used) == 1);
    CHECK (len == 5 && memcmp (buffer + off, body, 5) == 0);
}

int
main (void)
{
    RUN (test_names);
    RUN (test_line);
    RUN (test_length);
    return HEARTH_TEST_RESULT;
}
