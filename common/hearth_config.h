/*  hearth_config - mesh.yml: the broker's settings, the services to run and
    the named pipelines, as `hearth up` starts them. schemas/CONFIG.md is the
    reference (every key, its type, default and range).

    The loader reads the YAML with libyaml's event API and checks every key
    against one table per section. It refuses what a human most likely did
    not mean: unknown keys, duplicate keys, aliases and anchors, nesting
    deeper than HEARTH_CONFIG_DEPTH_MAX. Every error reads
    "FILE:LINE:COLUMN: what is wrong" (1-based), FILE being the path or the
    name given to hearth_config_load_string.
*/
#ifndef HEARTH_CONFIG_H_INCLUDED
#define HEARTH_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "hearth_broker_settings.h"
#include "hearth_route_expr.h"
#include "hearth_settings.h"

#define HEARTH_CONFIG_DEPTH_MAX   8         /* nested maps and lists        */
#define HEARTH_CONFIG_SIZE_MAX    (1 << 20) /* bytes in a config file       */
#define HEARTH_CONFIG_BINDS_MAX   16        /* as hearth-broker --bind      */
#define HEARTH_CONFIG_PIPELINES_MAX 256     /* as hearth-broker --pipeline  */
#define HEARTH_CONFIG_ROUTE_STAGES_MAX HEARTH_ROUTE_STAGES_MAX
#define HEARTH_CONFIG_ROUTE_GROUP_MAX  HEARTH_ROUTE_GROUP_MAX

typedef enum {
    HEARTH_FRAMING_LINE = 0,            /* one body per line                */
    HEARTH_FRAMING_LENGTH               /* 4-byte big-endian length, bytes  */
} hearth_framing_t;

/*  How a service's processes are started.                                  */
typedef enum {
    HEARTH_SERVICE_COMMAND = 0,         /* stdin/stdout program, kept warm
                                           by hearth-worker                  */
    HEARTH_SERVICE_MODULE,              /* python3 -m hearth serve M:F      */
    HEARTH_SERVICE_WORKER               /* speaks Hearth itself: run as is  */
} hearth_service_kind_t;

/*  A NULL-terminated argv; count excludes the NULL.                        */
typedef struct {
    char **argv;
    size_t count;
} hearth_config_argv_t;

typedef struct {
    hearth_config_argv_t bind;          /* endpoints; never empty            */
    hearth_broker_config_t settings;    /* hearth_broker_settings[]'s keys   */
} hearth_config_broker_t;

typedef struct {
    char *name;
    hearth_service_kind_t kind;
    hearth_config_argv_t command;       /* kind COMMAND                      */
    char *module;                       /* kind MODULE: "module:function"    */
    hearth_config_argv_t worker;        /* kind WORKER                       */
    char *directory;                    /* working directory, or NULL        */
    int processes;
    int concurrency;
    int timeout_ms;
    int start_timeout_ms;
    char *ready_line;                   /* or NULL                           */
    hearth_framing_t framing;
    bool per_request;
    bool idempotent;
    char *description;                  /* or NULL                           */
    char *version;                      /* or NULL                           */
    char *input_schema;                 /* JSON Schema text, or NULL         */
    char *output_schema;                /* JSON Schema text, or NULL         */
    char *example;                      /* an example request body, or NULL */
    int line;                           /* where the service is defined      */
} hearth_config_service_t;

typedef struct {
    char *name;
    char *route;                        /* "a,b,[c,d]", checked              */
    int line;
} hearth_config_pipeline_t;

typedef struct {
    char *source;                       /* the path or name loaded           */
    hearth_config_broker_t broker;
    hearth_config_service_t *services;  /* in file order                     */
    size_t service_count;               /* at least 1                        */
    hearth_config_pipeline_t *pipelines;
    size_t pipeline_count;
} hearth_config_t;

/*  The keys of mesh.yml: the top level, whose SECTION rows lead to the
    broker's (bind plus hearth_broker_settings[]) and, through the SPECIAL
    row "services", hearth_config_service_keys[] (one service's). For the
    test that schemas/CONFIG.md lists every key with its default.           */
extern const hearth_setting_t hearth_config_keys[];
extern const hearth_setting_t hearth_config_service_keys[];

/*  Loads and checks the mesh.yml at path. Returns a config the caller owns
    (free with hearth_config_destroy), or NULL with the reason written to
    error (size bytes, always NUL-terminated when size > 0).                 */
hearth_config_t *hearth_config_load (const char *path, char *error,
                                     size_t size);

/*  The same for a config held in memory (the embedded default mesh); name
    stands for the file in error messages. text is not kept.                 */
hearth_config_t *hearth_config_load_string (const char *text, const char *name,
                                            char *error, size_t size);

/*  Destroys a config. Idempotent; sets *self_p to NULL.                    */
void hearth_config_destroy (hearth_config_t **self_p);

/*  The service called name, or NULL.                                       */
const hearth_config_service_t *
hearth_config_service (const hearth_config_t *self, const char *name);

/*  Checks a service name as the broker will: 1 to HEARTH_SERVICE_MAX bytes,
    printable, none of ",[] ", not reserved ("mmi.", "hearth."). Returns
    NULL if valid, else a static reason.                                     */
const char *hearth_config_name_check (const char *name);

/*  Checks a route expression ("a,b,[c,d],e"): calls known (if not NULL)
    with each service named and fails if it returns false. Returns 0, or -1
    with the reason in error.                                                */
int hearth_config_route_check (const char *route,
                               bool (*known) (const char *name, void *arg),
                               void *arg, char *error, size_t size);

#endif
