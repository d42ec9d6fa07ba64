/*  hearth_cli_out - messages and exit codes of the CLI. */
#include "hearth_cli_out.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

int
hearth_cli_out_exit_code (int error)
{
    switch (error) {
        case HEARTH_OK:           return HEARTH_EXIT_OK;
        case HEARTH_EUNREACHABLE:
        case HEARTH_EBROKERLOST:  return HEARTH_EXIT_UNREACHABLE;
        case HEARTH_ETIMEOUT:     return HEARTH_EXIT_TIMEOUT;
        case HEARTH_ENOSERVICE:   return HEARTH_EXIT_NOSERVICE;
        case HEARTH_EWORKER:
        case HEARTH_EWORKERLOST:  return HEARTH_EXIT_WORKER;
        case HEARTH_EUNAVAILABLE: return HEARTH_EXIT_UNAVAILABLE;
        case HEARTH_EMALFORMED:
        case HEARTH_EFORBIDDEN:
        case HEARTH_ETOOLARGE:
        case HEARTH_ENOTIMPL:     return HEARTH_EXIT_REFUSED;
        default:                  return HEARTH_EXIT_ERROR;
    }
}

void
hearth_cli_out_fail (const char *format, ...)
{
    /*  Formatted first, then printed in one call, so the line stays whole
        when stderr is shared with other processes.                         */
    char line[1024];
    va_list args;
    va_start (args, format);
    vsnprintf (line, sizeof line, format, args);
    va_end (args);
    fprintf (stderr, "hearth: %s\n", line);
}

int
hearth_cli_out_call_error (const char *service, int error,
                           const hearth_reply_t *reply)
{
    char name[HEARTH_SERVICE_MAX + 1];
    hearth_cli_out_printable (service, strlen (service), name, sizeof name);
    /*  A lost or absent broker never answered: a status would mislead.    */
    if (reply && error != HEARTH_EBROKERLOST && error != HEARTH_EUNREACHABLE) {
        int status = hearth_reply_status (reply);
        const char *text = hearth_reply_error (reply);
        char detail[512];
        hearth_cli_out_printable (text ? text : "", text ? strlen (text) : 0,
                                  detail, sizeof detail);
        if (text)
            hearth_cli_out_fail ("%s: %d %s: %s", name, status,
                                 hearth_status_text (status), detail);
        else
            hearth_cli_out_fail ("%s: %d %s", name, status,
                                 hearth_status_text (status));
    }
    else
        hearth_cli_out_fail ("%s: %s", name, hearth_strerror (error));
    return hearth_cli_out_exit_code (error);
}

int
hearth_cli_out_body (FILE *out, const void *data, size_t size)
{
    if (size && fwrite (data, 1, size, out) != size)
        return -1;
    if (size && ((const char *) data)[size - 1] != '\n' && fputc ('\n', out) == EOF)
        return -1;
    return fflush (out) == 0 ? 0 : -1;
}

/*  The length of the well-formed UTF-8 sequence at text (at most len
    bytes) if it encodes a printable code point, else 0. C1 controls
    (U+0080..U+009F), overlong forms and surrogates are not printable.      */
static size_t
s_utf8_printable (const unsigned char *text, size_t len)
{
    unsigned char lead = text[0];
    size_t size;
    uint32_t point;
    if (lead >= 0xc2 && lead <= 0xdf)
        size = 2, point = lead & 0x1f;
    else
    if (lead >= 0xe0 && lead <= 0xef)
        size = 3, point = lead & 0x0f;
    else
    if (lead >= 0xf0 && lead <= 0xf4)
        size = 4, point = lead & 0x07;
    else
        return 0;
    if (size > len)
        return 0;
    for (size_t i = 1; i < size; i++) {
        if ((text[i] & 0xc0) != 0x80)
            return 0;
        point = point << 6 | (text[i] & 0x3f);
    }
    if ((size == 3 && point < 0x800)
    ||  (size == 4 && (point < 0x10000 || point > 0x10ffff))
    ||  (point >= 0xd800 && point <= 0xdfff)
    ||  (point >= 0x80 && point <= 0x9f))
        return 0;
    return size;
}

const char *
hearth_cli_out_printable (const char *text, size_t len, char *buf,
                          size_t bufsize)
{
    const unsigned char *in = (const unsigned char *) text;
    size_t i = 0, out = 0;
    while (i < len && out + 1 < bufsize) {
        size_t size = in[i] >= 0x80 ? s_utf8_printable (in + i, len - i) : 0;
        if (size) {
            if (out + size + 1 > bufsize)
                break;          /* never split a character */
            memcpy (buf + out, in + i, size);
            out += size;
            i += size;
        }
        else {
            buf[out++] = in[i] >= 0x20 && in[i] < 0x7f ? (char) in[i] : '?';
            i++;
        }
    }
    buf[out] = '\0';
    return buf;
}
