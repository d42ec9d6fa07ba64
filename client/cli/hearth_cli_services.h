/*  hearth_cli_services - the broker's hearth.services answer, decoded once
    for every part of the CLI that reads it (`hearth services` prints it as
    a table, `hearth up` counts workers and reads versions from it).

    The answer (schemas/PROTOCOL.md section 8.2) is a msgpack array of maps
    {name, workers, mdp_workers, draining, credit, in_flight, queued,
    descriptor}. It comes from the network, so nothing in it is trusted:
    a count that is absent or not a non-negative integer reads as
    HEARTH_CLI_SERVICES_UNKNOWN, a text that is absent, empty or not a
    string as NULL, and texts are copied and made printable (control bytes,
    invalid UTF-8 as '?', as hearth_cli_out_printable does), ready to print.
*/
#ifndef HEARTH_CLI_SERVICES_H_INCLUDED
#define HEARTH_CLI_SERVICES_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define HEARTH_CLI_SERVICES_UNKNOWN (-1)

typedef struct {
    char *name;                 /* printable, or NULL                       */
    int64_t workers;            /* or HEARTH_CLI_SERVICES_UNKNOWN, as each  */
    int64_t mdp_workers;
    int64_t draining;
    int64_t credit;
    int64_t in_flight;
    int64_t queued;
    char *version;              /* the descriptor's, printable, or NULL     */
    char *description;          /* the descriptor's, printable, or NULL     */
} hearth_cli_service_t;

typedef struct {
    hearth_cli_service_t *services;     /* in the broker's order            */
    size_t count;
} hearth_cli_services_t;

/*  Decodes the body of a hearth.services REPLY into *self_p (caller owns
    it: hearth_cli_services_destroy). Returns 0; -2 if the body is not an
    array of maps; -1 out of memory. *self_p is NULL unless 0 is returned.  */
int hearth_cli_services_decode (const void *data, size_t size,
                                hearth_cli_services_t **self_p);

/*  Frees the list and its texts. Idempotent.                               */
void hearth_cli_services_destroy (hearth_cli_services_t **self_p);

#endif
