/*  hb_pipeline - pipelines run inside the broker.

    A request whose service is a route expression ("a,b,[c,d],e", parsed
    by common/hearth_route_expr.h) or the name of a configured pipeline becomes
    a parent job; each stage sends child jobs, whose sink is the pipeline,
    through the ordinary queues and dispatch, and their answers come back
    here instead of to a client. Each stage's reply is the next stage's
    request, with no trip back to the client; one deadline covers the
    whole pipeline. See schemas/PROTOCOL.md section 11.
*/
#ifndef HB_PIPELINE_H_INCLUDED
#define HB_PIPELINE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>
#include "hearth/hearth_proto.h"

#include "hearth_route_expr.h"

typedef struct _hb_pipeline_t hb_pipeline_t;
typedef struct _hearth_broker_t hearth_broker_t;
typedef struct _hb_job_t hb_job_t;

/*  The route for a requested name: a configured pipeline's, or the name
    itself if it is a route expression; NULL for a plain service.           */
const char *hb_pipeline_for (hearth_broker_t *self, const char *name);

/*  Starts a pipeline for a client's job (body, metadata, client, deadline;
    no service) that asked for name, whose route is route. Accepts the job
    as hb_dispatch_accept does; answers it with 400 if the route does not
    parse, or 404 naming a stage's unknown service.                          */
void hb_pipeline_submit (hearth_broker_t *self, hb_job_t *job, const char *name,
                         const char *route);

/*  A stage job's outcome: status, the error text (or NULL) and the reply
    body (moved from, may be NULL). The stage job is not released here.     */
void hb_pipeline_stage_done (hearth_broker_t *self, hb_job_t *child, int status,
                             const char *error, size_t error_len,
                             zmq_msg_t *body);

/*  Takes the merge thread's results (a group's merged documents) and runs
    each route on; a result whose route was answered meanwhile is dropped.
    Reads until none is left: the merge pipe's fd is edge-triggered.         */
void hb_pipeline_collect (hearth_broker_t *self);

/*  The parent's deadline passed: answer 504 naming the stage.             */
void hb_pipeline_expire (hearth_broker_t *self, hb_job_t *parent);

/*  Frees a pipeline at shutdown, whatever its state. Nulls *pipeline_p.    */
void hb_pipeline_discard (hb_pipeline_t **pipeline_p);

/*  The pipeline's route expression or name, for logs and metadata.        */
const char *hb_pipeline_text (hb_pipeline_t *pipeline);

#endif
