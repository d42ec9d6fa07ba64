/*  hearth_cli_json - msgpack to JSON, for --json and --meta output.

    Generic: any msgpack object becomes JSON. Valid UTF-8 strings stay
    strings; strings that are not UTF-8 become ASCII with \xNN escapes;
    binary becomes base64; nil becomes null; a map key that is not a string
    becomes its JSON text. Input comes from the network: every length is
    checked by msgpack-c, whose unpacker also caps nesting depth.
*/
#ifndef HEARTH_CLI_JSON_H_INCLUDED
#define HEARTH_CLI_JSON_H_INCLUDED

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include <msgpack.h>

/*  Converts one msgpack object. Returns a new reference (caller owns it),
    or NULL out of memory.                                                   */
json_t *hearth_cli_json_from_object (const msgpack_object *object);

/*  Converts the one msgpack object in data (an empty buffer reads as an
    empty map, as metadata does). Returns a new reference, or NULL if data
    is malformed, has trailing bytes, or memory ran out.                     */
json_t *hearth_cli_json_from_msgpack (const void *data, size_t size);

/*  Writes data as JSON on one line (or indented when pretty) followed by a
    newline. Returns 0, or -1 if data is not valid msgpack.                 */
int hearth_cli_json_print (FILE *out, const void *data, size_t size,
                           bool pretty);

/*  Writes len bytes as base64 into out (4 * ((len + 2) / 3) + 1 bytes,
    NUL-terminated).                                                         */
void hearth_cli_json_base64 (const void *data, size_t len, char *out);

#endif
