/*  hearth_cli_json - msgpack to JSON with jansson. See the header. */
#include "hearth_cli_json.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void
hearth_cli_json_base64 (const void *data, size_t len, char *out)
{
    static const char table[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *in = data;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        *out++ = table[v >> 18];
        *out++ = table[(v >> 12) & 63];
        *out++ = table[(v >> 6) & 63];
        *out++ = table[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t) in[i] << 16
                   | (i + 1 < len ? (uint32_t) in[i + 1] << 8 : 0);
        *out++ = table[v >> 18];
        *out++ = table[(v >> 12) & 63];
        *out++ = i + 1 < len ? table[(v >> 6) & 63] : '=';
        *out++ = '=';
    }
    *out = '\0';
}

static json_t *
s_base64 (const char *data, size_t len)
{
    char *text = malloc (4 * ((len + 2) / 3) + 1);
    if (!text)
        return NULL;
    hearth_cli_json_base64 (data, len, text);
    json_t *json = json_string (text);
    free (text);
    return json;
}

/*  A msgpack str that is not valid UTF-8 (which JSON cannot carry) is
    shown with printable ASCII as is and every other byte as \xNN.           */
static json_t *
s_escaped (const char *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *text = malloc (4 * len + 1);
    if (!text)
        return NULL;
    char *out = text;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) data[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            *out++ = (char) c;
        else {
            *out++ = '\\';
            *out++ = 'x';
            *out++ = hex[c >> 4];
            *out++ = hex[c & 15];
        }
    }
    *out = '\0';
    json_t *json = json_string (text);
    free (text);
    return json;
}

static json_t *
s_string (const char *data, size_t len)
{
    /*  json_stringn refuses invalid UTF-8 (and returns NULL).              */
    json_t *json = json_stringn (data, len);
    return json ? json : s_escaped (data, len);
}

static json_t *
s_real (double value)
{
    /*  JSON has no NaN or infinity.                                        */
    return isfinite (value) ? json_real (value) : json_null ();
}

static json_t *
s_array (const msgpack_object_array *array)
{
    json_t *json = json_array ();
    for (uint32_t i = 0; json && i < array->size; i++)
        if (json_array_append_new (json,
                hearth_cli_json_from_object (&array->ptr[i]))) {
            json_decref (json);
            json = NULL;
        }
    return json;
}

/*  JSON object keys are strings: any other key is written as JSON text.    */
static char *
s_key (const msgpack_object *key)
{
    if (key->type == MSGPACK_OBJECT_STR) {
        json_t *json = s_string (key->via.str.ptr, key->via.str.size);
        char *text = json ? strdup (json_string_value (json)) : NULL;
        json_decref (json);
        return text;
    }
    json_t *json = hearth_cli_json_from_object (key);
    char *text = json ? json_dumps (json, JSON_ENCODE_ANY | JSON_COMPACT)
                      : NULL;
    json_decref (json);
    return text;
}

static json_t *
s_map (const msgpack_object_map *map)
{
    json_t *json = json_object ();
    for (uint32_t i = 0; json && i < map->size; i++) {
        char *key = s_key (&map->ptr[i].key);
        /*  NUL bytes inside a key would cut it short: jansson's _new
            setter checks UTF-8; a key that cannot be set fails the map.    */
        if (!key
        ||  json_object_set_new (json, key,
                hearth_cli_json_from_object (&map->ptr[i].val))) {
            json_decref (json);
            json = NULL;
        }
        free (key);
    }
    return json;
}

static json_t *
s_ext (const msgpack_object_ext *ext)
{
    return json_pack ("{s:i, s:o}", "ext", (json_int_t) ext->type,
                      "base64", s_base64 (ext->ptr, ext->size));
}

json_t *
hearth_cli_json_from_object (const msgpack_object *object)
{
    switch (object->type) {
        case MSGPACK_OBJECT_NIL:
            return json_null ();
        case MSGPACK_OBJECT_BOOLEAN:
            return json_boolean (object->via.boolean);
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            /*  Beyond json_int_t: a real loses precision but stays a number. */
            if (object->via.u64 > INT64_MAX)
                return json_real ((double) object->via.u64);
            return json_integer ((json_int_t) object->via.u64);
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            return json_integer ((json_int_t) object->via.i64);
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            return s_real (object->via.f64);
        case MSGPACK_OBJECT_STR:
            return s_string (object->via.str.ptr, object->via.str.size);
        case MSGPACK_OBJECT_BIN:
            return s_base64 (object->via.bin.ptr, object->via.bin.size);
        case MSGPACK_OBJECT_ARRAY:
            return s_array (&object->via.array);
        case MSGPACK_OBJECT_MAP:
            return s_map (&object->via.map);
        case MSGPACK_OBJECT_EXT:
            return s_ext (&object->via.ext);
        default:
            return json_null ();
    }
}

json_t *
hearth_cli_json_from_msgpack (const void *data, size_t size)
{
    if (size == 0)
        return json_object ();
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    json_t *json = NULL;
    if (msgpack_unpack_next (&unpacked, data, size, &offset)
            == MSGPACK_UNPACK_SUCCESS
    &&  offset == size)
        json = hearth_cli_json_from_object (&unpacked.data);
    msgpack_unpacked_destroy (&unpacked);
    return json;
}

int
hearth_cli_json_print (FILE *out, const void *data, size_t size, bool pretty)
{
    json_t *json = hearth_cli_json_from_msgpack (data, size);
    if (!json)
        return -1;
    size_t flags = JSON_ENCODE_ANY | JSON_PRESERVE_ORDER
                 | (pretty ? JSON_INDENT (2) : JSON_COMPACT);
    int rc = json_dumpf (json, out, flags);
    json_decref (json);
    if (rc == 0)
        fputc ('\n', out);
    return rc == 0 ? 0 : -1;
}
