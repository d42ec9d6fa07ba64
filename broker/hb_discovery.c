/*  hb_discovery - services the broker answers itself: MMI (RFC 8) and
    Hearth's hearth.ping and hearth.services (schemas/PROTOCOL.md 8).
*/
#include "hb_broker.h"

bool
hb_is_reserved (const char *name)
{
    return strncmp (name, HEARTH_MMI_PREFIX, strlen (HEARTH_MMI_PREFIX)) == 0
        || strncmp (name, HEARTH_INTERNAL_PREFIX, strlen (HEARTH_INTERNAL_PREFIX)) == 0;
}

/*  Answers in the client's protocol. MDP has only successful replies.     */
static void
s_answer (hearth_broker_t *self, hearth_frames_t *msg, hb_proto_t proto,
          const char *service, int status, const char *error,
          const void *body, size_t size)
{
    if (proto == HB_PROTO_NATIVE) {
        hb_reply_direct (self, msg, status, error, body, size);
        return;
    }
    if (status != HEARTH_STATUS_OK) {
        hb_drop (self, msg, HB_FRAME (2), error);
        return;
    }
    hearth_part_t parts[] = {
        HEARTH_PART_MSG (&msg->frame[HB_IDENTITY]),
        HEARTH_PART_EMPTY,
        HEARTH_PART_STR (HEARTH_MDPC_HEADER),
        HEARTH_PART_BYTES (service, strlen (service)),
        HEARTH_PART_BYTES (body, size)
    };
    if (hb_send (self, parts, 5))
        self->stats.undeliverable++;
}

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    size_t len = strlen (text);
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, text, len);
}

/*  One "key": count entry of a service's map.                              */
static void
s_pack_count (msgpack_packer *pk, const char *key, uint64_t count)
{
    s_pack_str (pk, key);
    msgpack_pack_uint64 (pk, count);
}

static void
s_pack_service (msgpack_packer *pk, msgpack_sbuffer *buffer, hb_service_t *service)
{
    msgpack_pack_map (pk, 8);
    s_pack_str (pk, "name");
    s_pack_str (pk, service->name);
    s_pack_count (pk, "workers", service->workers);
    s_pack_count (pk, "mdp_workers", service->mdp_workers);
    s_pack_count (pk, "draining", service->draining);
    s_pack_count (pk, "credit", service->credit);
    s_pack_count (pk, "in_flight", service->in_flight);
    s_pack_count (pk, "queued", hb_service_queued (service));
    s_pack_str (pk, "descriptor");
    hb_worker_t *publisher = service->publisher;
    if (publisher && publisher->descriptor_size)
        /*  Validated when the worker registered, so it can go in raw.      */
        msgpack_sbuffer_write (buffer, (const char *) publisher->descriptor,
                               publisher->descriptor_size);
    else
        msgpack_pack_nil (pk);
}

static void
s_services (hearth_broker_t *self, hearth_frames_t *msg, hb_proto_t proto,
            const char *service, const char *filter)
{
    msgpack_sbuffer buffer;
    msgpack_packer pk;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    if (*filter) {
        hb_service_t *one = hb_service_lookup (self, filter, HB_FIND);
        if (!one) {
            char error[320];
            snprintf (error, sizeof error, "no such service '%s'", filter);
            s_answer (self, msg, proto, service, HEARTH_STATUS_NOT_FOUND, error,
                      "", 0);
            msgpack_sbuffer_destroy (&buffer);
            return;
        }
        msgpack_pack_array (&pk, 1);
        s_pack_service (&pk, &buffer, one);
    }
    else {
        msgpack_pack_array (&pk, (uint32_t) zhashx_size (self->services));
        hb_service_t *each = zhashx_first (self->services);
        for (; each; each = zhashx_next (self->services))
            s_pack_service (&pk, &buffer, each);
    }
    s_answer (self, msg, proto, service, HEARTH_STATUS_OK, NULL, buffer.data,
              buffer.size);
    msgpack_sbuffer_destroy (&buffer);
}

void
hb_discovery (hearth_broker_t *self, hearth_frames_t *msg, hb_proto_t proto,
              const char *service, int body)
{
    const void *data = body < msg->count ? hearth_frames_data (msg, body) : "";
    size_t size = body < msg->count ? hearth_frames_size (msg, body) : 0;
    /*  A service name in the body: a C string copy, or "" if it cannot
        be one (too long, or has a NUL or control character).              */
    char name[HEARTH_SERVICE_MAX + 1] = "";
    if (body < msg->count && hb_service_name (msg, body, name))
        name[0] = 0;
    if (strcmp (service, HEARTH_MMI_SERVICE) == 0) {
        hb_service_t *found = name[0] ? hb_service_lookup (self, name, HB_FIND) : NULL;
        s_answer (self, msg, proto, service, HEARTH_STATUS_OK, NULL,
                  found && found->workers ? "200" : "404", 3);
    }
    else
    if (strncmp (service, HEARTH_MMI_PREFIX, strlen (HEARTH_MMI_PREFIX)) == 0)
        s_answer (self, msg, proto, service, HEARTH_STATUS_OK, NULL, "501", 3);
    else
    if (strcmp (service, HEARTH_SVC_PING) == 0)
        s_answer (self, msg, proto, service, HEARTH_STATUS_OK, NULL, data, size);
    else
    if (strcmp (service, HEARTH_SVC_SERVICES) == 0) {
        if (size && !name[0])
            s_answer (self, msg, proto, service, HEARTH_STATUS_BAD_REQUEST,
                      "body must be empty or a service name", "", 0);
        else
            s_services (self, msg, proto, service, name);
    }
    else {
        char error[320];
        snprintf (error, sizeof error, "no such service '%s'", service);
        s_answer (self, msg, proto, service, HEARTH_STATUS_NOT_FOUND, error, "", 0);
    }
}
