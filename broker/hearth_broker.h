/*  hearth_broker - the Hearth broker as an embeddable object.

    One ROUTER socket serves HMP/1 and MDP/0.1 clients and workers alike
    (schemas/PROTOCOL.md). `hearth-broker` is a thin main() over this; tests
    and benchmarks embed it the same way.
*/
#ifndef HEARTH_BROKER_H_INCLUDED
#define HEARTH_BROKER_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

/*  hearth_broker_config_t and its table, hearth_broker_settings[], are in
    common/ (the mesh.yml loader reads the same table).                     */
#include "hearth_broker_settings.h"

typedef struct _hearth_broker_t hearth_broker_t;

/*  Fills config with the defaults of hearth_broker_settings[] (those of
    hearth_proto.h).                                                         */
void hearth_broker_config_defaults (hearth_broker_config_t *config);

/*  Checks a config against hearth_broker_settings[]; returns NULL if valid,
    else a message naming the key that is wrong (valid until the next call
    from the same thread).                                                   */
const char *hearth_broker_config_check (const hearth_broker_config_t *config);

/*  Creates a broker (config copied). Returns NULL if the config is invalid
    or the ZeroMQ context or socket cannot be made.                          */
hearth_broker_t *hearth_broker_new (const hearth_broker_config_t *config);

/*  Destroys the broker, closing its socket. Idempotent.                    */
void hearth_broker_destroy (hearth_broker_t **self_p);

/*  Binds to endpoint ("tcp://127.0.0.1:5555", "tcp://127.0.0.1:*" for any
    free port, "ipc://...", "inproc://..."). The endpoint actually bound is
    written to resolved (if not NULL). Returns 0, or -1 with errno set.      */
int hearth_broker_bind (hearth_broker_t *self, const char *endpoint,
                        char *resolved, size_t size);

/*  Defines a pipeline: requests for name run route (e.g. "a,b,[c,d],e").
    The services need not exist yet. Returns 0, or -1 with the reason in
    error (bad name, bad route, duplicate).                                  */
int hearth_broker_add_pipeline (hearth_broker_t *self, const char *name,
                                const char *route, char *error, size_t size);

/*  Serves until hearth_broker_stop, then drains for grace_ms, answers what
    is left with 503, disconnects the workers and returns 0. Returns -1 if
    the socket fails for good.                                               */
int hearth_broker_run (hearth_broker_t *self);

/*  Asks a running broker to stop. Async-signal-safe; callable from any
    thread (the loop notices within 100 ms).                                 */
void hearth_broker_stop (hearth_broker_t *self);

/*  Figures for tests and the benchmark, read after run returns or from the
    broker's own thread.                                                     */
typedef struct {
    uint64_t requests;          /* client requests accepted                  */
    uint64_t replies;           /* replies sent to clients                   */
    uint64_t errors;            /* of those, non-200                         */
    uint64_t dropped;           /* malformed messages dropped                */
    uint64_t resent;            /* requests resent after a worker died       */
    uint64_t expired;           /* requests answered 504 (or dropped, MDP)   */
    uint64_t undeliverable;     /* replies whose client had gone            */
    uint64_t overloaded;        /* refused 503 as sure to miss their deadline*/
} hearth_broker_stats_t;

void hearth_broker_stats (hearth_broker_t *self, hearth_broker_stats_t *stats);

#endif
