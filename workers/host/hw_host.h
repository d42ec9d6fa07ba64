/*  hw_host - hearth-worker as a library: keeps N copies of a program warm
    and serves each as one HMP/1 worker (hearth_worker_t) of a service.

    Embeddable: main.c only parses the command line, blocks signals and
    waits; a test or `hearth up` could run a host in-process the same way.
    The child-process protocol is schemas/WORKER.md.
*/
#ifndef HW_HOST_H_INCLUDED
#define HW_HOST_H_INCLUDED

#include <stdbool.h>
#include "hw_framing.h"

#define HW_PROCESSES_MAX            1024

/*  Everything a host needs. Not copied: the strings and argv must outlive
    the host (main's argv does). The defaults, ranges and options of the
    settings among them are one table, hw_settings[] (hw_options.h).      */
typedef struct {
    const char *service;        /* required                                 */
    const char *endpoint;       /* broker, e.g. tcp://127.0.0.1:5555        */
    int processes;              /* children (per-request: at once), >= 1    */
    int timeout_ms;             /* per request                              */
    int start_timeout_ms;       /* to print the ready line                  */
    const char *ready_line;     /* NULL: a child is ready once started      */
    hw_framing_t framing;
    bool per_request;           /* one child per request, body on stdin     */
    bool idempotent;            /* a request may run again after a crash    */
    const char *version;        /* descriptor strings, or NULL              */
    const char *description;
    const char *input_schema;   /* descriptor: JSON Schema texts and an     */
    const char *output_schema;  /* example request body, or NULL            */
    const char *example;
    char *const *argv;          /* COMMAND ARGS..., NULL-terminated         */
} hw_options_t;

typedef struct _hw_host_t hw_host_t;

/*  Checks options and creates the host (nothing started yet). Returns NULL
    if an option is invalid (logged).                                        */
hw_host_t *hw_host_new (const hw_options_t *options);

/*  Starts every child and its worker in background threads. Ignores
    SIGPIPE for the whole process (a child may close its stdin at any
    time). Returns 0, or -1 if a thread could not be started.               */
int hw_host_start (hw_host_t *self);

/*  Asks everything to stop. Safe from a signal handler and any thread.    */
void hw_host_stop (hw_host_t *self);

/*  True once a worker's registration was refused by the broker (then the
    host has stopped itself).                                               */
bool hw_host_failed (hw_host_t *self);

/*  Number of children ready and registered with the broker now.           */
int hw_host_serving (hw_host_t *self);

/*  Stops (if running): finishes or fails in-flight requests within a few
    seconds, kills every child (TERM, then KILL) and reaps it, frees.
    Idempotent.                                                             */
void hw_host_destroy (hw_host_t **self_p);

#endif
