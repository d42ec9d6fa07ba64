/*  hb_route - routes (pipelines) run inside the broker.

    A request whose service is a route expression ("a,b,[c,d],e") or the
    name of a configured pipeline becomes a parent job; each stage sends
    child jobs through the ordinary queues and dispatch, and their answers
    come back here instead of to a client. Each stage's reply is the next
    stage's request, with no trip back to the client; one deadline covers
    the whole route. See schemas/PROTOCOL.md section 11.
*/
#ifndef HB_ROUTE_H_INCLUDED
#define HB_ROUTE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>
#include "hearth/hearth_proto.h"

#include "hearth_route.h"

typedef struct _hb_route_t hb_route_t;
typedef struct _hearth_broker_t hearth_broker_t;
typedef struct _hb_job_t hb_job_t;

/*  Starts a route for parent, a job holding the client's request (body,
    metadata, client, deadline; no service). Takes over the parsed spec;
    text is the name the client asked for (a pipeline or the expression).
    Answers the parent itself on any failure.                                */
void hb_route_start (hearth_broker_t *self, hb_job_t *parent,
                     hearth_route_t *spec, const char *text);

/*  A child job's outcome: status, the error text (or NULL) and the reply
    body (moved from, may be NULL). The child is not released here.          */
void hb_route_child_done (hearth_broker_t *self, hb_job_t *child, int status,
                          const char *error, size_t error_len, zmq_msg_t *body);

/*  The parent's deadline passed: answer 504 naming the stage.             */
void hb_route_expire (hearth_broker_t *self, hb_job_t *parent);

/*  Frees a route at shutdown, whatever its state. Nulls *route_p.          */
void hb_route_discard (hb_route_t **route_p);

/*  The route's expression, for logs and metadata.                          */
const char *hb_route_text (hb_route_t *route);

#endif
