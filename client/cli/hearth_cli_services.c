/*  hearth_cli_services - the hearth.services answer. See the header.      */
#include "hearth_cli_services.h"
#include "hearth_cli_out.h"
#include "hearth_meta.h"
#include "hearth/hearth_proto.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*  The value of key in a msgpack map, or NULL.                             */
static const msgpack_object *
s_map_get (const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t len = strlen (key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len
        &&  memcmp (k->via.str.ptr, key, len) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static int64_t
s_count (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = s_map_get (map, key);
    return value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER
        && value->via.u64 <= INT64_MAX ? (int64_t) value->via.u64
                                       : HEARTH_CLI_SERVICES_UNKNOWN;
}

/*  A printable copy of a string value into *text (NULL when there is no
    text to show). Returns 0, or -1 out of memory.                          */
static int
s_text (const msgpack_object *map, const char *key, char **text)
{
    const msgpack_object *value = s_map_get (map, key);
    *text = NULL;
    if (!value || value->type != MSGPACK_OBJECT_STR || !value->via.str.size)
        return 0;
    /*  Each byte in is at most one byte out.                               */
    size_t size = (size_t) value->via.str.size + 1;
    if (!(*text = malloc (size)))
        return -1;
    hearth_cli_out_printable (value->via.str.ptr, value->via.str.size, *text,
                              size);
    return 0;
}

static int
s_service (const msgpack_object *map, hearth_cli_service_t *service)
{
    service->workers = s_count (map, "workers");
    service->mdp_workers = s_count (map, "mdp_workers");
    service->draining = s_count (map, "draining");
    service->credit = s_count (map, "credit");
    service->in_flight = s_count (map, "in_flight");
    service->queued = s_count (map, "queued");
    const msgpack_object *descriptor = s_map_get (map, "descriptor");
    return s_text (map, "name", &service->name)
        || s_text (descriptor, HEARTH_DESC_VERSION, &service->version)
        || s_text (descriptor, HEARTH_DESC_DESCRIPTION, &service->description)
         ? -1 : 0;
}

int
hearth_cli_services_decode (const void *data, size_t size,
                            hearth_cli_services_t **self_p)
{
    *self_p = NULL;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    hearth_cli_services_t *self = NULL;
    int rc = -2;
    /*  msgpack-c allocates for the counts an array or map claims before it
        finds the bytes missing: check first, without allocating, that the
        whole object is there.                                              */
    if (hearth_meta_object_size (data, size) < 0
    ||  msgpack_unpack_next (&unpacked, data, size, &offset)
            != MSGPACK_UNPACK_SUCCESS
    ||  unpacked.data.type != MSGPACK_OBJECT_ARRAY)
        goto done;
    const msgpack_object_array *array = &unpacked.data.via.array;
    for (uint32_t i = 0; i < array->size; i++)
        if (array->ptr[i].type != MSGPACK_OBJECT_MAP)
            goto done;
    rc = -1;
    self = calloc (1, sizeof *self);
    if (!self
    ||  !(self->services = calloc ((size_t) array->size + 1,
                                   sizeof *self->services)))
        goto done;
    for (uint32_t i = 0; i < array->size; i++) {
        self->count++;
        if (s_service (&array->ptr[i], &self->services[i]))
            goto done;
    }
    rc = 0;
done:
    msgpack_unpacked_destroy (&unpacked);
    if (rc)
        hearth_cli_services_destroy (&self);
    *self_p = self;
    return rc;
}

void
hearth_cli_services_destroy (hearth_cli_services_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hearth_cli_services_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free (self->services[i].name);
        free (self->services[i].version);
        free (self->services[i].description);
    }
    free (self->services);
    free (self);
    *self_p = NULL;
}
