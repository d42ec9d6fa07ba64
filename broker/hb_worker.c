/*  hb_worker - workers and the identity-keyed worker table. */
#include "hb_worker.h"

static size_t
s_identity_hash (const void *key)
{
    /*  FNV-1a: identities are short, and libzmq's generated ones differ
        only in their last bytes, which FNV mixes well.                      */
    const hb_identity_t *identity = key;
    size_t hash = 2166136261u;
    for (int i = 0; i < identity->size; i++)
        hash = (hash ^ identity->bytes[i]) * 16777619u;
    return hash;
}

static int
s_identity_compare (const void *a, const void *b)
{
    const hb_identity_t *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return memcmp (x->bytes, y->bytes, x->size);
}

static void *
s_identity_dup (const void *key)
{
    const hb_identity_t *identity = key;
    hb_identity_t *copy = malloc (sizeof *copy);
    if (copy) {
        copy->size = identity->size;
        memcpy (copy->bytes, identity->bytes, identity->size);
    }
    return copy;
}

static void
s_identity_free (void **key_p)
{
    free (*key_p);
    *key_p = NULL;
}

zhashx_t *
hb_worker_table_new (void)
{
    zhashx_t *table = zhashx_new ();
    if (!table)
        return NULL;
    zhashx_set_key_hasher (table, s_identity_hash);
    zhashx_set_key_comparator (table, s_identity_compare);
    zhashx_set_key_duplicator (table, s_identity_dup);
    zhashx_set_key_destructor (table, s_identity_free);
    return table;
}

int
hb_identity_set (hb_identity_t *identity, const void *data, size_t size)
{
    if (size == 0 || size > HB_IDENTITY_MAX)
        return -1;
    identity->size = (uint8_t) size;
    memcpy (identity->bytes, data, size);
    return 0;
}

hb_worker_t *
hb_worker_new (const hb_identity_t *identity, hb_proto_t proto)
{
    static const char hex[] = "0123456789abcdef";
    hb_worker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->jobs = zlistx_new ();
    if (!self->jobs) {
        free (self);
        return NULL;
    }
    self->identity = *identity;
    for (int i = 0; i < identity->size; i++) {
        self->id_text[2 * i] = hex[identity->bytes[i] >> 4];
        self->id_text[2 * i + 1] = hex[identity->bytes[i] & 15];
    }
    self->id_text[2 * identity->size] = 0;
    self->proto = proto;
    self->credit = 1;
    return self;
}

void
hb_worker_destroy (hb_worker_t **self_p)
{
    hb_worker_t *self = *self_p;
    if (!self)
        return;
    zlistx_destroy (&self->jobs);
    free (self->version);
    free (self);
    *self_p = NULL;
}
