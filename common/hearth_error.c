/*  hearth_error - error codes, their texts, and the wire status mapping.
    The public half of this module is declared in include/hearth/hearth.h.
*/
#include "hearth/hearth.h"

static const struct {
    const char *name;
    const char *text;
} s_errors[HEARTH_ERROR_COUNT] = {
    [HEARTH_OK]           = { "HEARTH_OK", "success" },
    [HEARTH_EINVAL]       = { "HEARTH_EINVAL", "invalid argument" },
    [HEARTH_ENOMEM]       = { "HEARTH_ENOMEM", "out of memory" },
    [HEARTH_EMALFORMED]   = { "HEARTH_EMALFORMED", "malformed request" },
    [HEARTH_EFORBIDDEN]   = { "HEARTH_EFORBIDDEN", "forbidden" },
    [HEARTH_ENOSERVICE]   = { "HEARTH_ENOSERVICE", "no such service" },
    [HEARTH_ETOOLARGE]    = { "HEARTH_ETOOLARGE", "message too large" },
    [HEARTH_EWORKER]      = { "HEARTH_EWORKER", "worker error" },
    [HEARTH_ENOTIMPL]     = { "HEARTH_ENOTIMPL", "not implemented" },
    [HEARTH_EWORKERLOST]  = { "HEARTH_EWORKERLOST", "worker lost" },
    [HEARTH_EUNAVAILABLE] = { "HEARTH_EUNAVAILABLE", "service unavailable" },
    [HEARTH_ETIMEOUT]     = { "HEARTH_ETIMEOUT", "deadline exceeded" },
    [HEARTH_EUNREACHABLE] = { "HEARTH_EUNREACHABLE", "broker unreachable" },
    [HEARTH_EBROKERLOST]  = { "HEARTH_EBROKERLOST", "broker connection lost" },
    [HEARTH_EPROTO]       = { "HEARTH_EPROTO", "protocol error" },
    [HEARTH_EREJECTED]    = { "HEARTH_EREJECTED", "registration rejected" },
    [HEARTH_ESYS]         = { "HEARTH_ESYS", "system error" },
    [HEARTH_ESTATUS]      = { "HEARTH_ESTATUS", "unknown status code" },
};

const char *
hearth_strerror (int error)
{
    if (error < 0 || error >= HEARTH_ERROR_COUNT)
        return "unknown error";
    return s_errors[error].text;
}

const char *
hearth_error_name (int error)
{
    if (error < 0 || error >= HEARTH_ERROR_COUNT)
        return "HEARTH_E?";
    return s_errors[error].name;
}

hearth_error_t
hearth_error_from_status (int status)
{
    switch (status) {
        case HEARTH_STATUS_OK:           return HEARTH_OK;
        case HEARTH_STATUS_BAD_REQUEST:  return HEARTH_EMALFORMED;
        case HEARTH_STATUS_FORBIDDEN:    return HEARTH_EFORBIDDEN;
        case HEARTH_STATUS_NOT_FOUND:    return HEARTH_ENOSERVICE;
        case HEARTH_STATUS_TOO_LARGE:    return HEARTH_ETOOLARGE;
        case HEARTH_STATUS_WORKER_ERROR: return HEARTH_EWORKER;
        case HEARTH_STATUS_NOT_IMPL:     return HEARTH_ENOTIMPL;
        case HEARTH_STATUS_WORKER_LOST:  return HEARTH_EWORKERLOST;
        case HEARTH_STATUS_UNAVAILABLE:  return HEARTH_EUNAVAILABLE;
        case HEARTH_STATUS_TIMEOUT:      return HEARTH_ETIMEOUT;
        default:
            /*  Unknown codes fall into their class, as HTTP clients do.   */
            if (status >= 200 && status < 300) return HEARTH_OK;
            if (status >= 400 && status < 500) return HEARTH_EMALFORMED;
            if (status >= 500 && status < 600) return HEARTH_EWORKER;
            return HEARTH_ESTATUS;
    }
}

const char *
hearth_status_text (int status)
{
    switch (status) {
        case HEARTH_STATUS_OK:           return "OK";
        case HEARTH_STATUS_BAD_REQUEST:  return "Bad Request";
        case HEARTH_STATUS_FORBIDDEN:    return "Forbidden";
        case HEARTH_STATUS_NOT_FOUND:    return "Not Found";
        case HEARTH_STATUS_TOO_LARGE:    return "Payload Too Large";
        case HEARTH_STATUS_WORKER_ERROR: return "Worker Error";
        case HEARTH_STATUS_NOT_IMPL:     return "Not Implemented";
        case HEARTH_STATUS_WORKER_LOST:  return "Worker Lost";
        case HEARTH_STATUS_UNAVAILABLE:  return "Service Unavailable";
        case HEARTH_STATUS_TIMEOUT:      return "Gateway Timeout";
        default:                         return "Unknown";
    }
}
