/*  hearth_cli_plan - what `hearth up` starts for a mesh: the list of
    children, each with its program, argv, working directory and whole
    environment.

    Child 0 is the broker, with the mesh's broker settings as flags; then,
    per enabled service in file order, one hearth-worker (command services:
    it keeps the N processes warm itself), or `processes` copies of
    `python3 -m hearth serve` (module) or of the service's own program
    (worker).

    A pure function of the config and the options: no fork, no file system
    (program lookup is the caller's callback), no environment of its own
    (the caller passes it). `hearth up` hands the children to
    hearth_supervisor; tests read them.
*/
#ifndef HEARTH_CLI_PLAN_H_INCLUDED
#define HEARTH_CLI_PLAN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "hearth_config.h"

typedef struct {
    char *name;                 /* for the log: "broker", "S" or "S#2"      */
    char *path;                 /* the program to execute (= argv[0])       */
    char **argv;                /* NULL-terminated                          */
    char *directory;            /* working directory, or NULL: ours         */
    char **env;                 /* the whole environment, NULL-terminated   */
    int service;                /* index in the config's services; -1 for
                                   the broker                               */
} hearth_cli_child_t;

typedef struct {
    hearth_cli_child_t *children;   /* [0] is the broker                    */
    size_t count;
    int *expected;              /* per service of the config: the workers
                                   it must register to be ready (0 if not
                                   enabled)                                 */
} hearth_cli_plan_t;

/*  Finds program name for a child that runs in directory: writes the path
    to run into out (size bytes) and returns 0, or returns -1 if not found
    (the name is then run as it is).                                         */
typedef int (hearth_cli_plan_find_fn) (void *arg, const char *name,
                                       const char *directory, char *out,
                                       size_t size);

typedef struct {
    const char *broker;         /* the hearth-broker program, found         */
    const char *worker_host;    /* the hearth-worker program, found (only
                                   command services use it)                 */
    const char *bind;           /* the broker's first bind, with a wildcard
                                   port already replaced; the others are
                                   the config's                             */
    const char *endpoint;       /* where children connect (HEARTH_BROKER)   */
    const char *base_dir;       /* services' directories resolve here       */
    const char *python;         /* for module services; NULL or "":
                                   /usr/bin/python3                          */
    const char *python_path;    /* the hearth package's parent, or NULL     */
    char *const *environ;       /* what children inherit (NULL: nothing)    */
    const bool *enabled;        /* per service, or NULL: every service      */
    bool verbose;               /* the broker logs at debug level           */
    hearth_cli_plan_find_fn *find;  /* or NULL: programs run as named       */
    void *find_arg;
} hearth_cli_plan_options_t;

/*  Builds the plan of config with options into *plan_p (caller owns it:
    hearth_cli_plan_destroy). Returns 0, or -1 out of memory or when a path
    exceeds PATH_MAX (then *plan_p is NULL).                                  */
int hearth_cli_plan_new (const hearth_config_t *config,
                         const hearth_cli_plan_options_t *options,
                         hearth_cli_plan_t **plan_p);

/*  Frees the plan and everything in it. Idempotent.                        */
void hearth_cli_plan_destroy (hearth_cli_plan_t **self_p);

/*  Joins dir and name into out (name as is when absolute). Returns 0, or
    -1 if it does not fit in size bytes.                                     */
int hearth_cli_plan_join (const char *dir, const char *name, char *out,
                          size_t size);

/*  The directory service runs in: its `directory` resolved against
    base_dir, or base_dir. Returns 0, or -1 if it does not fit.             */
int hearth_cli_plan_service_dir (const char *base_dir,
                                 const hearth_config_service_t *service,
                                 char *out, size_t size);

#endif
