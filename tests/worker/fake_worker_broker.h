/*  fake_worker_broker - a scripted HMP/1 broker for worker tests: a raw
    ROUTER on tcp://127.0.0.1:* that the test drives frame by frame, in the
    test's own thread (the client tests' fake, tests/client/
    fake_client_broker.h, runs a script in a thread of its own instead).
*/
#ifndef FAKE_WORKER_BROKER_H_INCLUDED
#define FAKE_WORKER_BROKER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hearth_wire.h"

typedef struct {
    void *ctx;
    void *router;
    char endpoint[256];
    /*  Identity of the peer that sent the last received message.            */
    uint8_t peer[256];
    size_t peer_size;
} fake_worker_broker_t;

/*  Binds a ROUTER to tcp://127.0.0.1:*; aborts the test on failure.         */
fake_worker_broker_t *fake_worker_broker_new (void);
void fake_worker_broker_destroy (fake_worker_broker_t **self_p);

/*  Receives one message within timeout_ms into frames (identity frame
    stripped and remembered as peer): 0, or -1 on timeout.                   */
int fake_worker_broker_recv (fake_worker_broker_t *self,
                             hearth_frames_t *frames, int timeout_ms);

/*  Receives until a HEARTHW1 message with command arrives (others, such as
    heartbeats, are skipped and counted in *skipped if not NULL): 0, or -1
    on timeout. frames holds the message on success (caller closes).        */
int fake_worker_broker_expect (fake_worker_broker_t *self, int command,
                               hearth_frames_t *frames, int timeout_ms,
                               int *skipped);

/*  Sends "" HEARTHW1 command, then count extra frames, to the last peer. */
void fake_worker_broker_send (fake_worker_broker_t *self, int command,
                              const hearth_part_t *extra, int count);

/*  Sends raw frames as given (after the identity) to the last peer.        */
void fake_worker_broker_send_raw (fake_worker_broker_t *self,
                                  const hearth_part_t *parts, int count);

/*  Sends REGISTERED 200 with the given heartbeat and liveness.             */
void fake_worker_broker_register (fake_worker_broker_t *self, int heartbeat_ms,
                                  int liveness);

/*  Sends a REQUEST with an 8-byte job id made from job, the given raw
    metadata (NULL: empty) and body.                                         */
void fake_worker_broker_request (fake_worker_broker_t *self, uint64_t job,
                                 const void *meta, size_t meta_size,
                                 const char *body);

#endif
