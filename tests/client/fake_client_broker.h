/*  fake_client_broker - a scripted stand-in for hearth-broker, for client
    tests (the worker tests' fake, tests/worker/fake_worker_broker.h, speaks
    the worker protocol and is driven step by step from the test instead).

    A raw ROUTER bound to tcp://127.0.0.1:* in its own thread. For every
    message it receives it calls the script, which answers (or not) with
    the helpers below. Bounded: the thread stops when destroyed, and polls
    in short steps so it never hangs a test.
*/
#ifndef FAKE_CLIENT_BROKER_H_INCLUDED
#define FAKE_CLIENT_BROKER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hearth_wire.h"
#include "hearth/hearth_proto.h"

typedef struct fake_client_broker fake_client_broker_t;

/*  A request as the fake saw it: ROUTER identity plus the native frames
    (frame[0] identity, [1] "", [2] header, [3] command, [4] request-id,
    [5] service, [6] metadata, [7] body).                                   */
typedef hearth_frames_t fake_client_request_t;

/*  Returns 0 to keep serving, or -1 to close the ROUTER at once (the
    clients see their connection drop).                                     */
typedef int (fake_client_script_fn) (fake_client_broker_t *fake,
                                     fake_client_request_t *request,
                                     void *arg);

fake_client_broker_t *fake_client_broker_new (fake_client_script_fn *script,
                                              void *arg);
void fake_client_broker_destroy (fake_client_broker_t **self_p);
/*  The endpoint clients connect to ("tcp://127.0.0.1:PORT").              */
const char *fake_client_broker_endpoint (fake_client_broker_t *self);
/*  Messages received so far (safe from any thread).                       */
int fake_client_broker_received (fake_client_broker_t *self);

/*  Sends a native REPLY to request with status, error (or NULL: no
    metadata) and body.                                                      */
void fake_client_broker_reply (fake_client_broker_t *self,
                               fake_client_request_t *request, int status,
                               const char *error, const void *body,
                               size_t size);
/*  Sends raw parts to the peer of request (identity added first).         */
void fake_client_broker_send_raw (fake_client_broker_t *self,
                                  fake_client_request_t *request,
                                  hearth_part_t *parts, int count);
/*  The peer identity and request id of a request, for replying later:
    copies into a saved request.                                            */
typedef struct {
    uint8_t identity[256];
    size_t identity_size;
    uint8_t id[HEARTH_REQUEST_ID_MAX];
    size_t id_size;
} fake_client_saved_t;
void fake_client_broker_save (fake_client_request_t *request,
                              fake_client_saved_t *saved);
void fake_client_broker_reply_saved (fake_client_broker_t *self,
                                     const fake_client_saved_t *saved,
                                     int status, const void *body, size_t size);

#endif
