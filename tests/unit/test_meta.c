/*  test_meta - the msgpack metadata scanner and writer (common/hearth_meta).

    The scanner reads bytes from the network, so most of this file is
    hostile input: every type byte, every truncation of every header and
    payload width, lying lengths, deep nesting, trailing bytes and odd keys.
    Expected sizes come from the msgpack spec written out again here (in
    s_value), not from the code under test.
*/
#include "hearth_meta.h"
#include "hearth_test.h"

#include <stdlib.h>

#define BUF_MAX 256

/*  Writes a well-formed object whose first byte is b into out, with 3 as
    the length or count of every variable-size type; returns its size, or
    0 for 0xc1, which msgpack never uses.                                    */
static size_t
s_value (uint8_t b, uint8_t *out)
{
    size_t n = 0;
    out[n++] = b;
    size_t payload = 0, children = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return n;
    if (b >= 0x80 && b <= 0x8f)
        children = 2u * (b & 0x0f);
    else
    if (b >= 0x90 && b <= 0x9f)
        children = b & 0x0f;
    else
    if (b >= 0xa0 && b <= 0xbf)
        payload = b & 0x1f;
    else
    switch (b) {
        case 0xc1: return 0;
        case 0xc4: case 0xd9: out[n++] = 3; payload = 3; break;
        case 0xc5: case 0xda: out[n++] = 0; out[n++] = 3; payload = 3; break;
        case 0xc6: case 0xdb:
            out[n++] = 0; out[n++] = 0; out[n++] = 0; out[n++] = 3;
            payload = 3; break;
        case 0xc7: out[n++] = 3; out[n++] = 7; payload = 3; break;
        case 0xc8: out[n++] = 0; out[n++] = 3; out[n++] = 7; payload = 3; break;
        case 0xc9:
            out[n++] = 0; out[n++] = 0; out[n++] = 0; out[n++] = 3;
            out[n++] = 7; payload = 3; break;
        case 0xca: case 0xce: case 0xd2: payload = 4; break;
        case 0xcb: case 0xcf: case 0xd3: payload = 8; break;
        case 0xcc: case 0xd0: payload = 1; break;
        case 0xcd: case 0xd1: payload = 2; break;
        case 0xd4: payload = 1 + 1; break;
        case 0xd5: payload = 1 + 2; break;
        case 0xd6: payload = 1 + 4; break;
        case 0xd7: payload = 1 + 8; break;
        case 0xd8: payload = 1 + 16; break;
        case 0xdc: out[n++] = 0; out[n++] = 3; children = 3; break;
        case 0xdd:
            out[n++] = 0; out[n++] = 0; out[n++] = 0; out[n++] = 3;
            children = 3; break;
        case 0xde: out[n++] = 0; out[n++] = 3; children = 6; break;
        case 0xdf:
            out[n++] = 0; out[n++] = 0; out[n++] = 0; out[n++] = 3;
            children = 6; break;
        default: break;
    }
    for (size_t i = 0; i < payload; i++)
        out[n++] = 'x';
    for (size_t i = 0; i < children; i++)
        out[n++] = 0x01;
    return n;
}

/*  Wraps value as the single value of a map {"k": value}.                  */
static size_t
s_map_of (const uint8_t *value, size_t size, uint8_t *out)
{
    out[0] = 0x81;
    out[1] = 0xa1;
    out[2] = 'k';
    memcpy (out + 3, value, size);
    return 3 + size;
}

static void
test_empty (void)
{
    hearth_meta_iter_t iter;
    hearth_meta_entry_t entry;
    static const uint8_t empty_map[] = { 0x80 };
    CHECK_INT (hearth_meta_iter_init (&iter, empty_map, 0), 0);
    CHECK_INT (hearth_meta_iter_next (&iter, &entry), 0);
    CHECK_INT (hearth_meta_validate (empty_map, 0), 0);
    CHECK_INT (hearth_meta_validate (empty_map, 1), 0);
    CHECK_INT (hearth_meta_find (empty_map, 1, "k", &entry), 0);
    CHECK_INT (hearth_meta_find (empty_map, 0, "k", &entry), 0);
    CHECK_INT (hearth_meta_object_size (empty_map, 0), -2);
}

/*  Every one of the 256 type bytes, whole and cut at every length.         */
static void
test_every_type_byte (void)
{
    for (int b = 0; b < 256; b++) {
        uint8_t value[BUF_MAX], map[BUF_MAX];
        size_t size = s_value ((uint8_t) b, value);
        if (size == 0) {
            /*  0xc1 is "never used": malformed wherever it appears.         */
            value[0] = (uint8_t) b;
            CHECK_INT (hearth_meta_object_size (value, 1), -2);
            CHECK_INT (hearth_meta_validate (map, s_map_of (value, 1, map)), -2);
            continue;
        }
        int64_t got = hearth_meta_object_size (value, size);
        if (got != (int64_t) size)
            HEARTH_TEST_FAIL_AT ("type 0x%02x: size %lld, expected %zu", b,
                                 (long long) got, size);
        CHECK_INT (hearth_meta_validate (map, s_map_of (value, size, map)), 0);
        /*  Every strict prefix is truncated: header, length field, ext
            type byte, payload or children.                                  */
        for (size_t cut = 0; cut < size; cut++) {
            if (hearth_meta_object_size (value, cut) != -2)
                HEARTH_TEST_FAIL_AT ("type 0x%02x cut at %zu accepted", b, cut);
            if (hearth_meta_validate (map, s_map_of (value, cut, map)) != -2)
                HEARTH_TEST_FAIL_AT ("map with type 0x%02x cut at %zu "
                                     "accepted", b, cut);
        }
        hearth_test_checks += 2 * (int) size;
    }
}

/*  Length fields that claim far more than the buffer holds, for every
    width: each must fail without reading past the end.                      */
static void
test_lying_lengths (void)
{
    static const uint8_t lies[][6] = {
        { 0xc4, 0xff },             { 0xc5, 0xff, 0xff },
        { 0xc6, 0xff, 0xff, 0xff, 0xff },
        { 0xc7, 0xff, 0x01 },       { 0xc8, 0xff, 0xff, 0x01 },
        { 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01 },
        { 0xd9, 0xff },             { 0xda, 0xff, 0xff },
        { 0xdb, 0xff, 0xff, 0xff, 0xff },
        { 0xdc, 0xff, 0xff },       { 0xdd, 0xff, 0xff, 0xff, 0xff },
        { 0xde, 0xff, 0xff },       { 0xdf, 0xff, 0xff, 0xff, 0xff },
    };
    static const size_t sizes[] = { 2, 3, 5, 3, 4, 6, 2, 3, 5, 3, 5, 3, 5 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t buf[16], map[32];
        memcpy (buf, lies[i], sizes[i]);
        buf[sizes[i]] = 0x01;   /* one byte of "payload" */
        CHECK_INT (hearth_meta_object_size (buf, sizes[i] + 1), -2);
        CHECK_INT (hearth_meta_validate (map,
                   s_map_of (buf, sizes[i] + 1, map)), -2);
    }
    /*  A str32 whose length would wrap a 32-bit size computation.          */
    static const uint8_t wrap[] = { 0xdb, 0xff, 0xff, 0xff, 0xfe, 'a', 'b' };
    CHECK_INT (hearth_meta_object_size (wrap, sizeof wrap), -2);
}

/*  A map32 that claims 2^32-1 entries (and arrays that claim as much):
    the scan must stop when the bytes run out, not loop or allocate.        */
static void
test_huge_counts (void)
{
    static const uint8_t map32[] = { 0xdf, 0xff, 0xff, 0xff, 0xff,
                                     0xa1, 'a', 0x01 };
    hearth_meta_iter_t iter;
    hearth_meta_entry_t entry;
    CHECK_INT (hearth_meta_iter_init (&iter, map32, sizeof map32), 0);
    CHECK_INT (hearth_meta_iter_next (&iter, &entry), 1);
    CHECK (hearth_meta_key_is (&entry, "a"));
    CHECK_INT (hearth_meta_iter_next (&iter, &entry), -2);
    CHECK_INT (hearth_meta_validate (map32, sizeof map32), -2);
    CHECK_INT (hearth_meta_find (map32, sizeof map32, "zz", &entry), -2);
    CHECK_INT (hearth_meta_object_size (map32, sizeof map32), -2);

    /*  The same lie one level down, in a value.                            */
    uint8_t map[64];
    static const uint8_t array32[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 1, 2 };
    CHECK_INT (hearth_meta_validate (map,
               s_map_of (array32, sizeof array32, map)), -2);
    static const uint8_t inner32[] = { 0xdf, 0x80, 0x00, 0x00, 0x00, 1, 2 };
    CHECK_INT (hearth_meta_validate (map,
               s_map_of (inner32, sizeof inner32, map)), -2);

    /*  Honest 16- and 32-bit counts are read.                               */
    static const uint8_t map16[] = { 0xde, 0x00, 0x01, 0xa1, 'a', 0x05 };
    CHECK_INT (hearth_meta_validate (map16, sizeof map16), 0);
    static const uint8_t map32_one[] = { 0xdf, 0, 0, 0, 1, 0xa1, 'a', 0x05 };
    CHECK_INT (hearth_meta_find (map32_one, sizeof map32_one, "a", &entry), 1);
    uint64_t value = 0;
    CHECK_INT (hearth_meta_value_uint (&entry, &value), 0);
    CHECK_INT (value, 5);
}

/*  Builds {"k": [[...[inner]...]]} with arrays nested levels deep inside
    the map (so levels + 1 containers in all); returns its size.             */
static size_t
s_nested (uint8_t *out, int arrays, bool empty_inner)
{
    size_t n = 0;
    out[n++] = 0x81;
    out[n++] = 0xa1;
    out[n++] = 'k';
    for (int i = 0; i < arrays; i++)
        out[n++] = (i == arrays - 1 && empty_inner) ? 0x90 : 0x91;
    if (!empty_inner || arrays == 0)
        out[n++] = 0x07;
    return n;
}

/*  PROTOCOL.md section 6: "... or deeper than 16 levels, is malformed".
    The map is level 1, so 15 arrays inside it are the deepest legal
    nesting.                                                                 */
static void
test_depth (void)
{
    uint8_t buf[BUF_MAX];
    CHECK_INT (hearth_meta_validate (buf, s_nested (buf, HEARTH_META_DEPTH_MAX - 1,
                                                    false)), 0);
    CHECK_INT (hearth_meta_validate (buf, s_nested (buf, HEARTH_META_DEPTH_MAX - 1,
                                                    true)), 0);
    CHECK_INT (hearth_meta_validate (buf, s_nested (buf, HEARTH_META_DEPTH_MAX,
                                                    false)), -2);
    /*  An empty container is still a level.                                 */
    CHECK_INT (hearth_meta_validate (buf, s_nested (buf, HEARTH_META_DEPTH_MAX,
                                                    true)), -2);
    CHECK_INT (hearth_meta_validate (buf, s_nested (buf, HEARTH_META_DEPTH_MAX + 5,
                                                    false)), -2);
    /*  Nested maps count the same as arrays.                               */
    size_t n = 0;
    for (int i = 0; i < HEARTH_META_DEPTH_MAX; i++) {
        buf[n++] = 0x81;
        buf[n++] = 0xa1;
        buf[n++] = 'm';
    }
    buf[n++] = 0x80;
    CHECK_INT (hearth_meta_validate (buf, n), -2);
    CHECK_INT (hearth_meta_validate (buf + 3, n - 3), 0);

    /*  A hostile megabyte of nested arrays: refused by the depth cap long
        before the stack could overflow.                                     */
    size_t deep_size = 1 << 20;
    uint8_t *deep = malloc (deep_size);
    CHECK (deep != NULL);
    if (deep) {
        deep[0] = 0x81;
        deep[1] = 0xa1;
        deep[2] = 'k';
        memset (deep + 3, 0x91, deep_size - 3);
        CHECK_INT (hearth_meta_validate (deep, deep_size), -2);
        CHECK_INT (hearth_meta_object_size (deep + 3, deep_size - 3), -2);
        free (deep);
    }
}

static void
test_trailing_bytes (void)
{
    hearth_meta_iter_t iter;
    hearth_meta_entry_t entry;
    static const uint8_t two_maps[] = { 0x80, 0x80 };
    CHECK_INT (hearth_meta_validate (two_maps, 2), -2);
    CHECK_INT (hearth_meta_iter_init (&iter, two_maps, 2), 0);
    CHECK_INT (hearth_meta_iter_next (&iter, &entry), -2);
    static const uint8_t one_extra[] = { 0x81, 0xa1, 'a', 0x01, 0x00 };
    CHECK_INT (hearth_meta_validate (one_extra, sizeof one_extra), -2);
    CHECK_INT (hearth_meta_validate (one_extra, sizeof one_extra - 1), 0);
    /*  find stops at its key: it is not a validator.                       */
    CHECK_INT (hearth_meta_find (one_extra, sizeof one_extra, "a", &entry), 1);
    CHECK_INT (hearth_meta_find (one_extra, sizeof one_extra, "b", &entry), -2);
    /*  object_size measures one object and ignores what follows it.        */
    CHECK_INT (hearth_meta_object_size (one_extra, sizeof one_extra), 4);
}

static void
test_not_a_map (void)
{
    hearth_meta_iter_t iter;
    static const uint8_t not_maps[][3] = {
        { 0x90 }, { 0xa1, 'a' }, { 0x01 }, { 0xc0 }, { 0xc1 }, { 0xdc, 0, 0 },
        { 0xde, 0x00 },         /* map16 with its count cut */
        { 0xdf, 0x00, 0x00 },   /* map32 with its count cut */
    };
    static const size_t sizes[] = { 1, 2, 1, 1, 1, 3, 2, 3 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (hearth_meta_iter_init (&iter, not_maps[i], sizes[i]) != -2)
            HEARTH_TEST_FAIL_AT ("case %zu read as a map", i);
        if (hearth_meta_validate (not_maps[i], sizes[i]) != -2)
            HEARTH_TEST_FAIL_AT ("case %zu validated", i);
        hearth_test_checks += 2;
    }
}

/*  Keys that are not strings are legal msgpack: the entry is readable but
    matches no key, and the map still validates.                             */
static void
test_odd_keys (void)
{
    hearth_meta_entry_t entry;
    static const uint8_t int_key[] = { 0x82, 0x01, 0x02, 0xa1, 'a', 0x03 };
    CHECK_INT (hearth_meta_validate (int_key, sizeof int_key), 0);
    hearth_meta_iter_t iter;
    CHECK_INT (hearth_meta_iter_init (&iter, int_key, sizeof int_key), 0);
    CHECK_INT (hearth_meta_iter_next (&iter, &entry), 1);
    CHECK (entry.key == NULL);
    CHECK (!hearth_meta_key_is (&entry, ""));
    CHECK_INT (entry.entry_size, 2);
    CHECK_INT (hearth_meta_find (int_key, sizeof int_key, "a", &entry), 1);
    uint64_t value = 0;
    CHECK_INT (hearth_meta_value_uint (&entry, &value), 0);
    CHECK_INT (value, 3);

    /*  bin, array and nil keys; a str8 key; an empty key.                  */
    static const uint8_t mixed[] = {
        0x85, 0xc4, 0x01, 'a', 0x01,  0x91, 0x01, 0x02,  0xc0, 0x03,
        0xd9, 0x02, 'b', 'b', 0x04,   0xa0, 0x05 };
    CHECK_INT (hearth_meta_validate (mixed, sizeof mixed), 0);
    CHECK_INT (hearth_meta_find (mixed, sizeof mixed, "a", &entry), 0);
    CHECK_INT (hearth_meta_find (mixed, sizeof mixed, "bb", &entry), 1);
    CHECK_INT (entry.key_len, 2);
    CHECK_INT (hearth_meta_value_uint (&entry, &value), 0);
    CHECK_INT (value, 4);
    CHECK_INT (hearth_meta_find (mixed, sizeof mixed, "", &entry), 1);
    CHECK_INT (hearth_meta_value_uint (&entry, &value), 0);
    CHECK_INT (value, 5);
    /*  A key that is a prefix of another does not match it.               */
    CHECK_INT (hearth_meta_find (mixed, sizeof mixed, "b", &entry), 0);
    CHECK_INT (hearth_meta_find (mixed, sizeof mixed, "bbb", &entry), 0);
    /*  A key whose length runs past the end.                                */
    static const uint8_t long_key[] = { 0x81, 0xa5, 'a', 'b' };
    CHECK_INT (hearth_meta_validate (long_key, sizeof long_key), -2);
    /*  A key without a value.                                               */
    static const uint8_t no_value[] = { 0x81, 0xa1, 'a' };
    CHECK_INT (hearth_meta_validate (no_value, sizeof no_value), -2);
    CHECK_INT (hearth_meta_find (no_value, sizeof no_value, "a", &entry), -2);
}

/*  Finds key in data, expecting it present.                                 */
static int
s_entry (const uint8_t *data, size_t size, hearth_meta_entry_t *entry)
{
    return hearth_meta_find (data, size, "v", entry);
}

static void
test_value_uint (void)
{
    static const struct {
        uint8_t bytes[12];
        size_t size;
        int rc;
        uint64_t value;
    } cases[] = {
        { { 0x81, 0xa1, 'v', 0x00 }, 4, 0, 0 },
        { { 0x81, 0xa1, 'v', 0x7f }, 4, 0, 127 },
        { { 0x81, 0xa1, 'v', 0xcc, 0xff }, 5, 0, 255 },
        { { 0x81, 0xa1, 'v', 0xcd, 0x01, 0x00 }, 6, 0, 256 },
        { { 0x81, 0xa1, 'v', 0xce, 0xff, 0xff, 0xff, 0xff }, 8, 0, 0xffffffffu },
        { { 0x81, 0xa1, 'v', 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff }, 12, 0, UINT64_MAX },
        /*  Signed encodings of non-negative values are accepted...          */
        { { 0x81, 0xa1, 'v', 0xd0, 0x7f }, 5, 0, 127 },
        { { 0x81, 0xa1, 'v', 0xd1, 0x7f, 0xff }, 6, 0, 32767 },
        { { 0x81, 0xa1, 'v', 0xd2, 0x00, 0x00, 0x01, 0x00 }, 8, 0, 256 },
        { { 0x81, 0xa1, 'v', 0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff }, 12, 0, INT64_MAX },
        /*  ...negative ones are not a uint.                                 */
        { { 0x81, 0xa1, 'v', 0xd0, 0xff }, 5, -1, 0 },
        { { 0x81, 0xa1, 'v', 0xd0, 0x80 }, 5, -1, 0 },
        { { 0x81, 0xa1, 'v', 0xd1, 0x80, 0x00 }, 6, -1, 0 },
        { { 0x81, 0xa1, 'v', 0xd2, 0xff, 0xff, 0xff, 0xff }, 8, -1, 0 },
        { { 0x81, 0xa1, 'v', 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 12, -1, 0 },
        { { 0x81, 0xa1, 'v', 0xff }, 4, -1, 0 },                /* -1 */
        { { 0x81, 0xa1, 'v', 0xe0 }, 4, -1, 0 },                /* -32 */
        { { 0x81, 0xa1, 'v', 0xca, 0x3f, 0x80, 0, 0 }, 8, -1, 0 },  /* 1.0f */
        { { 0x81, 0xa1, 'v', 0xc0 }, 4, -1, 0 },
        { { 0x81, 0xa1, 'v', 0xc3 }, 4, -1, 0 },
        { { 0x81, 0xa1, 'v', 0xa1, '1' }, 5, -1, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hearth_meta_entry_t entry;
        if (s_entry (cases[i].bytes, cases[i].size, &entry) != 1) {
            HEARTH_TEST_FAIL_AT ("uint case %zu: key not found", i);
            continue;
        }
        uint64_t value = 12345;
        int rc = hearth_meta_value_uint (&entry, &value);
        if (rc != cases[i].rc || (rc == 0 && value != cases[i].value))
            HEARTH_TEST_FAIL_AT ("uint case %zu: rc %d value %" PRIu64, i, rc,
                                 value);
        hearth_test_checks++;
    }
}

static void
test_value_bool_str (void)
{
    hearth_meta_entry_t entry;
    bool flag = false;
    static const uint8_t yes[] = { 0x81, 0xa1, 'v', 0xc3 };
    static const uint8_t no[] = { 0x81, 0xa1, 'v', 0xc2 };
    static const uint8_t one[] = { 0x81, 0xa1, 'v', 0x01 };
    CHECK_INT (s_entry (yes, sizeof yes, &entry), 1);
    CHECK_INT (hearth_meta_value_bool (&entry, &flag), 0);
    CHECK (flag);
    CHECK_INT (hearth_meta_value_str (&entry, &(const char *) { NULL },
                                      &(size_t) { 0 }), -1);
    CHECK_INT (s_entry (no, sizeof no, &entry), 1);
    CHECK_INT (hearth_meta_value_bool (&entry, &flag), 0);
    CHECK (!flag);
    CHECK_INT (s_entry (one, sizeof one, &entry), 1);
    CHECK_INT (hearth_meta_value_bool (&entry, &flag), -1);

    /*  Strings in all four widths, and the empty string.                    */
    static const uint8_t fix[] = { 0x81, 0xa1, 'v', 0xa2, 'h', 'i' };
    static const uint8_t s8[] = { 0x81, 0xa1, 'v', 0xd9, 0x02, 'h', 'i' };
    static const uint8_t s16[] = { 0x81, 0xa1, 'v', 0xda, 0x00, 0x02, 'h', 'i' };
    static const uint8_t s32[] = { 0x81, 0xa1, 'v', 0xdb, 0, 0, 0, 2, 'h', 'i' };
    static const uint8_t *strs[] = { fix, s8, s16, s32 };
    static const size_t sizes[] = { sizeof fix, sizeof s8, sizeof s16,
                                    sizeof s32 };
    for (int i = 0; i < 4; i++) {
        const char *str = NULL;
        size_t len = 0;
        CHECK_INT (s_entry (strs[i], sizes[i], &entry), 1);
        CHECK_INT (hearth_meta_value_str (&entry, &str, &len), 0);
        CHECK_MEM (str, len, "hi", 2);
    }
    static const uint8_t empty[] = { 0x81, 0xa1, 'v', 0xa0 };
    const char *str = NULL;
    size_t len = 99;
    CHECK_INT (s_entry (empty, sizeof empty, &entry), 1);
    CHECK_INT (hearth_meta_value_str (&entry, &str, &len), 0);
    CHECK_INT (len, 0);
    /*  bin is not a string.                                                 */
    static const uint8_t bin[] = { 0x81, 0xa1, 'v', 0xc4, 0x01, 'x' };
    CHECK_INT (s_entry (bin, sizeof bin, &entry), 1);
    CHECK_INT (hearth_meta_value_str (&entry, &str, &len), -1);
}

/*  Finishes the writer into a malloc'd buffer, which must validate.         */
static uint8_t *
s_finish (hearth_meta_writer_t *writer, size_t *size)
{
    uint8_t *data = hearth_meta_writer_to_buffer (writer, size);
    CHECK (data != NULL);
    if (data)
        CHECK_INT (hearth_meta_validate (data, *size), 0);
    return data;
}

static void
test_writer_round_trip (void)
{
    static const uint64_t uints[] = { 0, 1, 127, 128, 255, 256, 65535, 65536,
                                      0xffffffffu, 0x100000000ull, UINT64_MAX };
    static const char *const keys[] = { "u0", "u1", "u2", "u3", "u4", "u5",
                                        "u6", "u7", "u8", "u9", "u10" };
    hearth_meta_writer_t writer;
    hearth_meta_writer_init (&writer);
    for (size_t i = 0; i < 11; i++)
        hearth_meta_put_uint (&writer, keys[i], uints[i]);
    hearth_meta_put_bool (&writer, "yes", true);
    hearth_meta_put_bool (&writer, "no", false);
    hearth_meta_put_str (&writer, "str", "hello");
    hearth_meta_put_str (&writer, "empty", "");
    hearth_meta_put_strn (&writer, "nul", "a\0b", 3);
    char long_text[300];
    memset (long_text, 'z', sizeof long_text);
    hearth_meta_put_strn (&writer, "long", long_text, sizeof long_text);
    static const uint8_t raw[] = { 0x92, 0x01, 0xa1, 'x' };
    hearth_meta_put_raw (&writer, "raw", raw, sizeof raw);

    size_t size = 0;
    uint8_t *data = s_finish (&writer, &size);
    hearth_meta_entry_t entry;
    for (size_t i = 0; data && i < 11; i++) {
        uint64_t value = 0;
        CHECK_INT (hearth_meta_find (data, size, keys[i], &entry), 1);
        CHECK_INT (hearth_meta_value_uint (&entry, &value), 0);
        if (value != uints[i])
            HEARTH_TEST_FAIL_AT ("%s: %" PRIu64 " != %" PRIu64, keys[i], value,
                                 uints[i]);
    }
    bool flag = false;
    const char *str = NULL;
    size_t len = 0;
    if (data) {
        CHECK_INT (hearth_meta_find (data, size, "yes", &entry), 1);
        CHECK_INT (hearth_meta_value_bool (&entry, &flag), 0);
        CHECK (flag);
        CHECK_INT (hearth_meta_find (data, size, "no", &entry), 1);
        CHECK_INT (hearth_meta_value_bool (&entry, &flag), 0);
        CHECK (!flag);
        CHECK_INT (hearth_meta_find (data, size, "str", &entry), 1);
        CHECK_INT (hearth_meta_value_str (&entry, &str, &len), 0);
        CHECK_MEM (str, len, "hello", 5);
        CHECK_INT (hearth_meta_find (data, size, "empty", &entry), 1);
        CHECK_INT (hearth_meta_value_str (&entry, &str, &len), 0);
        CHECK_INT (len, 0);
        CHECK_INT (hearth_meta_find (data, size, "nul", &entry), 1);
        CHECK_INT (hearth_meta_value_str (&entry, &str, &len), 0);
        CHECK_MEM (str, len, "a\0b", 3);
        CHECK_INT (hearth_meta_find (data, size, "long", &entry), 1);
        CHECK_INT (hearth_meta_value_str (&entry, &str, &len), 0);
        CHECK_MEM (str, len, long_text, sizeof long_text);
        CHECK_INT (hearth_meta_find (data, size, "raw", &entry), 1);
        CHECK_MEM (entry.value, entry.value_size, raw, sizeof raw);
        CHECK_INT (hearth_meta_find (data, size, "absent", &entry), 0);
    }
    free (data);

    /*  to_msg gives the same bytes as to_buffer.                            */
    zmq_msg_t msg;
    CHECK_INT (hearth_meta_writer_to_msg (&writer, &msg), 0);
    uint8_t *again = hearth_meta_writer_to_buffer (&writer, &size);
    CHECK (again != NULL);
    if (again)
        CHECK_MEM (zmq_msg_data (&msg), zmq_msg_size (&msg), again, size);
    free (again);
    zmq_msg_close (&msg);

    /*  After a reset the writer starts an empty map.                        */
    hearth_meta_writer_reset (&writer);
    data = s_finish (&writer, &size);
    if (data)
        CHECK_MEM (data, size, "\x80", 1);
    free (data);
    hearth_meta_put_uint (&writer, "a", 1);
    data = s_finish (&writer, &size);
    if (data)
        CHECK_MEM (data, size, "\x81\xa1" "a\x01", 4);
    free (data);
    hearth_meta_writer_destroy (&writer);
}

/*  Counts the entries of a valid map.                                        */
static int
s_count (const uint8_t *data, size_t size)
{
    hearth_meta_iter_t iter;
    hearth_meta_entry_t entry;
    int count = 0;
    if (hearth_meta_iter_init (&iter, data, size))
        return -1;
    int rc;
    while ((rc = hearth_meta_iter_next (&iter, &entry)) == 1)
        count++;
    return rc == 0 ? count : -1;
}

static void
test_copy (void)
{
    /*  {"a":1, "b":"x", 5:6, "c":true, "deadline":9}                       */
    static const uint8_t source[] = {
        0x85, 0xa1, 'a', 0x01,  0xa1, 'b', 0xa1, 'x',  0x05, 0x06,
        0xa1, 'c', 0xc3,  0xa8, 'd', 'e', 'a', 'd', 'l', 'i', 'n', 'e', 0x09 };
    static const char *const skip[] = { "b", "deadline", NULL };
    hearth_meta_writer_t writer;
    hearth_meta_writer_init (&writer);
    hearth_meta_put_uint (&writer, "deadline", 42);
    CHECK_INT (hearth_meta_copy (&writer, source, sizeof source, skip), 0);
    size_t size = 0;
    uint8_t *data = s_finish (&writer, &size);
    hearth_meta_entry_t entry;
    uint64_t value = 0;
    if (data) {
        CHECK_INT (s_count (data, size), 4);    /* deadline, a, 5, c */
        CHECK_INT (hearth_meta_find (data, size, "b", &entry), 0);
        CHECK_INT (hearth_meta_find (data, size, "deadline", &entry), 1);
        CHECK_INT (hearth_meta_value_uint (&entry, &value), 0);
        CHECK_INT (value, 42);
        CHECK_INT (hearth_meta_find (data, size, "a", &entry), 1);
        CHECK_INT (hearth_meta_find (data, size, "c", &entry), 1);
    }
    free (data);

    /*  No skip list: everything, byte for byte.                             */
    hearth_meta_writer_reset (&writer);
    CHECK_INT (hearth_meta_copy (&writer, source, sizeof source, NULL), 0);
    data = s_finish (&writer, &size);
    if (data)
        CHECK_MEM (data, size, source, sizeof source);
    free (data);

    /*  An empty source copies nothing.                                      */
    hearth_meta_writer_reset (&writer);
    CHECK_INT (hearth_meta_copy (&writer, source, 0, skip), 0);
    CHECK_INT (writer.count, 0);

    /*  A malformed source copies nothing, even its good first entries.      */
    hearth_meta_put_uint (&writer, "keep", 1);
    size_t before = writer.buffer.size;
    CHECK_INT (hearth_meta_copy (&writer, source, sizeof source - 1, NULL), -2);
    static const uint8_t not_map[] = { 0x91, 0x01 };
    CHECK_INT (hearth_meta_copy (&writer, not_map, sizeof not_map, NULL), -2);
    CHECK_INT (writer.count, 1);
    CHECK_INT (writer.buffer.size, before);
    hearth_meta_writer_destroy (&writer);
}

/*  The writer picks the smallest map header: fixmap up to 15 entries,
    map16 up to 65535, map32 beyond.                                         */
static void
test_map_header_sizes (void)
{
    static const struct {
        uint32_t count;
        uint8_t head[5];
        size_t head_size;
    } cases[] = {
        { 0, { 0x80 }, 1 },
        { 15, { 0x8f }, 1 },
        { 16, { 0xde, 0x00, 0x10 }, 3 },
        { 65535, { 0xde, 0xff, 0xff }, 3 },
        { 65536, { 0xdf, 0x00, 0x01, 0x00, 0x00 }, 5 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hearth_meta_writer_t writer;
        hearth_meta_writer_init (&writer);
        for (uint32_t k = 0; k < cases[i].count; k++)
            hearth_meta_put_bool (&writer, "", k & 1);
        size_t size = 0;
        uint8_t *data = s_finish (&writer, &size);
        if (data) {
            CHECK_MEM (data, cases[i].head_size, cases[i].head,
                       cases[i].head_size);
            /*  Header, then 2 bytes per entry (empty key, bool).            */
            CHECK_INT (size, cases[i].head_size + 2 * (size_t) cases[i].count);
            CHECK_INT (s_count (data, size), cases[i].count);
        }
        free (data);
        hearth_meta_writer_destroy (&writer);
    }
}

int
main (void)
{
    RUN (test_empty);
    RUN (test_every_type_byte);
    RUN (test_lying_lengths);
    RUN (test_huge_counts);
    RUN (test_depth);
    RUN (test_trailing_bytes);
    RUN (test_not_a_map);
    RUN (test_odd_keys);
    RUN (test_value_uint);
    RUN (test_value_bool_str);
    RUN (test_writer_round_trip);
    RUN (test_copy);
    RUN (test_map_header_sizes);
    return HEARTH_TEST_RESULT;
}
