/*  hb_worker - a worker as the broker sees it: its identity, protocol,
    credit, the jobs it holds and when it was last heard from.
*/
#ifndef HB_WORKER_H_INCLUDED
#define HB_WORKER_H_INCLUDED

#include <czmq.h>
#include "hb_job.h"

/*  A ROUTER identity, the key of the worker table.                         */
typedef struct {
    uint8_t size;
    uint8_t bytes[HB_IDENTITY_MAX];
} hb_identity_t;

struct _hb_worker_t {
    hb_identity_t identity;
    char id_text[2 * HB_IDENTITY_MAX + 1];  /* hex, for logs and metadata   */
    hb_proto_t proto;
    hb_service_t *service;      /* NULL until registered                    */
    size_t credit;              /* jobs it may hold                         */
    zlistx_t *jobs;             /* hb_job_t * it holds, not owned           */
    void *ready_handle;         /* in service->ready, or NULL               */
    int64_t heard_at;           /* ms of its last message                   */
    char *version;              /* from its descriptor, or NULL             */
    bool idempotent;            /* from its descriptor                      */
    bool draining;              /* sent DISCONNECT holding requests: gets
                                   no more, removed once they are answered */
};

/*  A zhashx keyed by hb_identity_t (keys copied), values not owned.        */
zhashx_t *hb_worker_table_new (void);
/*  Fills identity from a ROUTER identity frame; -1 if too long or empty.   */
int hb_identity_set (hb_identity_t *identity, const void *data, size_t size);

hb_worker_t *hb_worker_new (const hb_identity_t *identity, hb_proto_t proto);
/*  Destroys a worker that holds no jobs. Idempotent.                        */
void hb_worker_destroy (hb_worker_t **self_p);

#endif
