/*  hearth_cli_plan - `hearth up`'s children for a mesh. See the header.   */
#include "hearth_cli_plan.h"
#include "hearth_cli_strv.h"
#include "hearth/hearth.h"
#include "hearth_broker_settings.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- paths */

int
hearth_cli_plan_join (const char *dir, const char *name, char *out,
                      size_t size)
{
    size_t dir_len = name[0] == '/' ? 0 : strlen (dir);
    size_t name_len = strlen (name);
    if (dir_len + 1 + name_len + 1 > size)
        return -1;
    if (dir_len) {
        memcpy (out, dir, dir_len);
        out[dir_len++] = '/';
    }
    memcpy (out + dir_len, name, name_len + 1);
    return 0;
}

int
hearth_cli_plan_service_dir (const char *base_dir,
                             const hearth_config_service_t *service,
                             char *out, size_t size)
{
    if (!service->directory)
        return snprintf (out, size, "%s", base_dir) < (int) size ? 0 : -1;
    return hearth_cli_plan_join (base_dir, service->directory, out, size);
}

/*  The program to run for name in directory: as found, or name itself.   */
static void
s_program (const hearth_cli_plan_options_t *options, const char *name,
           const char *directory, char *out, size_t size)
{
    if (!options->find
    ||  options->find (options->find_arg, name, directory, out, size))
        snprintf (out, size, "%s", name);
}

/* ------------------------------------------------------------ children */

/*  The value of variable in env ("NAME=" included in name), or NULL.       */
static const char *
s_getenv (char *const *env, const char *name)
{
    size_t len = strlen (name);
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp (env[i], name, len) == 0)
            return env[i] + len;
    return NULL;
}

/*  The inherited environment with HEARTH_BROKER set, and PYTHONPATH led by
    python_dir (if not NULL), then the hearth package's directory.          */
static void
s_environment (const hearth_cli_plan_options_t *options,
               const char *python_dir, hearth_cli_strv_t *env)
{
    for (char *const *var = options->environ; var && *var; var++)
        if (strncmp (*var, "HEARTH_BROKER=", 14) != 0
        &&  (!python_dir || strncmp (*var, "PYTHONPATH=", 11) != 0))
            hearth_cli_strv_add (env, *var);
    hearth_cli_strv_addf (env, "HEARTH_BROKER=%s", options->endpoint);
    if (python_dir) {
        const char *package = options->python_path ? options->python_path : "";
        const char *old = s_getenv (options->environ, "PYTHONPATH=");
        hearth_cli_strv_addf (env, "PYTHONPATH=%s%s%s%s%s", python_dir,
                              *package ? ":" : "", package,
                              old && *old ? ":" : "", old && *old ? old : "");
    }
}

/*  The broker's command line: every broker setting of the mesh as a flag,
    then the pipelines left in it.                                          */
static void
s_broker_argv (const hearth_config_t *config,
               const hearth_cli_plan_options_t *options,
               hearth_cli_strv_t *argv)
{
    const hearth_config_broker_t *broker = &config->broker;
    hearth_cli_strv_add (argv, options->broker);
    hearth_cli_strv_option (argv, "--bind", "%s", options->bind);
    for (size_t i = 1; i < broker->bind.count; i++)
        hearth_cli_strv_option (argv, "--bind", "%s", broker->bind.argv[i]);
    /*  Every broker setting, by the table: a new one needs no line here.  */
    const hearth_setting_t *setting = hearth_broker_settings;
    for (; setting->key; setting++) {
        char flag[HEARTH_SETTINGS_FLAG_MAX + 3] = "--", value[32];
        hearth_settings_flag (setting, flag + 2, sizeof flag - 2);
        hearth_settings_value_text (setting, &broker->settings, value,
                                    sizeof value);
        hearth_cli_strv_option (argv, flag, "%s", value);
    }
    for (size_t i = 0; i < config->pipeline_count; i++) {
        const hearth_config_pipeline_t *pipeline = &config->pipelines[i];
        if (*pipeline->route)       /* emptied: left out of the mesh        */
            hearth_cli_strv_option (argv, "--pipeline", "%s=%s", pipeline->name,
                                    pipeline->route);
    }
    if (options->verbose)
        hearth_cli_strv_add (argv, "--verbose");
}

/*  The descriptor options hearth-worker and `python3 -m hearth serve`
    share: --version-string, --description, and the schema and example.    */
static void
s_descriptor_options (const hearth_config_service_t *service,
                      hearth_cli_strv_t *argv)
{
    if (service->version)
        hearth_cli_strv_option (argv, "--version-string", "%s",
                                service->version);
    if (service->description)
        hearth_cli_strv_option (argv, "--description", "%s",
                                service->description);
    if (service->input_schema)
        hearth_cli_strv_option (argv, "--input-schema", "%s",
                                service->input_schema);
    if (service->output_schema)
        hearth_cli_strv_option (argv, "--output-schema", "%s",
                                service->output_schema);
    if (service->example)
        hearth_cli_strv_option (argv, "--example", "%s", service->example);
}

/*  hearth-worker's command line for a command service.                    */
static void
s_worker_host_argv (const hearth_cli_plan_options_t *options,
                    const hearth_config_service_t *service,
                    const char *command0, hearth_cli_strv_t *argv)
{
    hearth_cli_strv_add (argv, options->worker_host);
    hearth_cli_strv_option (argv, "-s", "%s", service->name);
    hearth_cli_strv_option (argv, "-b", "%s", options->endpoint);
    hearth_cli_strv_option (argv, "-n", "%d", service->processes);
    hearth_cli_strv_option (argv, "--timeout", "%d", service->timeout_ms);
    hearth_cli_strv_option (argv, "--start-timeout", "%d",
                            service->start_timeout_ms);
    if (service->ready_line)
        hearth_cli_strv_option (argv, "--ready-line", "%s",
                                service->ready_line);
    hearth_cli_strv_option (argv, "--framing", "%s",
                            service->framing == HEARTH_FRAMING_LENGTH
                            ? "length" : "line");
    if (service->per_request)
        hearth_cli_strv_add (argv, "--per-request");
    if (service->idempotent)
        hearth_cli_strv_add (argv, "--idempotent");
    s_descriptor_options (service, argv);
    hearth_cli_strv_add (argv, "--");
    hearth_cli_strv_add (argv, command0);
    for (size_t i = 1; i < service->command.count; i++)
        hearth_cli_strv_add (argv, service->command.argv[i]);
}

/*  `python3 -m hearth serve` for a module service; python as found.       */
static void
s_python_argv (const hearth_cli_plan_options_t *options,
               const hearth_config_service_t *service, const char *python,
               hearth_cli_strv_t *argv)
{
    hearth_cli_strv_add (argv, python);
    hearth_cli_strv_add (argv, "-m");
    hearth_cli_strv_add (argv, "hearth");
    hearth_cli_strv_add (argv, "serve");
    hearth_cli_strv_add (argv, service->module);
    hearth_cli_strv_option (argv, "-s", "%s", service->name);
    hearth_cli_strv_option (argv, "-b", "%s", options->endpoint);
    hearth_cli_strv_option (argv, "-n", "%d", service->concurrency);
    if (service->idempotent)
        hearth_cli_strv_add (argv, "--idempotent");
    s_descriptor_options (service, argv);
}

/*  Appends a child with copies of argv and env. Returns 0, or -1.         */
static int
s_add (hearth_cli_plan_t *self, const char *name, int service,
       const hearth_cli_strv_t *argv, const char *directory,
       const hearth_cli_strv_t *env)
{
    if (argv->failed || env->failed || !argv->count)
        return -1;
    hearth_cli_child_t *children = realloc (self->children,
                                            (self->count + 1)
                                            * sizeof *children);
    if (!children)
        return -1;
    self->children = children;
    hearth_cli_child_t *child = &children[self->count++];
    memset (child, 0, sizeof *child);
    child->service = service;
    child->name = strdup (name);
    child->path = strdup (argv->items[0]);
    child->directory = directory ? strdup (directory) : NULL;
    if (hearth_cli_strv_dup (argv->items, &child->argv)
    ||  hearth_cli_strv_dup (env->items, &child->env))
        return -1;
    return child->name && child->path && (!directory || child->directory)
        && child->argv && child->env ? 0 : -1;
}

static int
s_add_broker (hearth_cli_plan_t *self, const hearth_config_t *config,
              const hearth_cli_plan_options_t *options)
{
    hearth_cli_strv_t argv = { 0 }, env = { 0 };
    s_broker_argv (config, options, &argv);
    s_environment (options, NULL, &env);
    int rc = s_add (self, "broker", -1, &argv, NULL, &env);
    hearth_cli_strv_reset (&argv);
    hearth_cli_strv_reset (&env);
    return rc;
}

/*  Adds the children of service index. Returns 0, or -1.                 */
static int
s_add_service (hearth_cli_plan_t *self, const hearth_config_t *config,
               const hearth_cli_plan_options_t *options, size_t index)
{
    const hearth_config_service_t *service = &config->services[index];
    char dir[PATH_MAX], program[PATH_MAX];
    if (hearth_cli_plan_service_dir (options->base_dir, service, dir,
                                     sizeof dir))
        return -1;
    hearth_cli_strv_t argv = { 0 }, env = { 0 };
    int copies = service->processes;
    self->expected[index] = service->processes;
    if (service->kind == HEARTH_SERVICE_COMMAND) {
        /*  Found here, as hearth-worker would not look in our build tree. */
        s_program (options, service->command.argv[0], dir, program,
                   sizeof program);
        s_worker_host_argv (options, service, program, &argv);
        copies = 1;
        /*  hearth-worker registers one worker per warm child.              */
        self->expected[index] = service->per_request ? 1 : service->processes;
    }
    else
    if (service->kind == HEARTH_SERVICE_MODULE) {
        s_program (options, options->python && *options->python
                            ? options->python : "/usr/bin/python3",
                   dir, program, sizeof program);
        s_python_argv (options, service, program, &argv);
    }
    else {
        s_program (options, service->worker.argv[0], dir, program,
                   sizeof program);
        hearth_cli_strv_add (&argv, program);
        for (size_t k = 1; k < service->worker.count; k++)
            hearth_cli_strv_add (&argv, service->worker.argv[k]);
    }
    s_environment (options, service->kind == HEARTH_SERVICE_MODULE ? dir
                                                                   : NULL,
                   &env);
    int rc = 0;
    for (int k = 0; k < copies && rc == 0; k++) {
        char name[HEARTH_SERVICE_MAX + 16];
        snprintf (name, sizeof name, copies > 1 ? "%s#%d" : "%s",
                  service->name, k + 1);
        rc = s_add (self, name, (int) index, &argv, dir, &env);
    }
    hearth_cli_strv_reset (&argv);
    hearth_cli_strv_reset (&env);
    return rc;
}

int
hearth_cli_plan_new (const hearth_config_t *config,
                     const hearth_cli_plan_options_t *options,
                     hearth_cli_plan_t **plan_p)
{
    *plan_p = NULL;
    hearth_cli_plan_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    self->expected = calloc (config->service_count + 1,
                             sizeof *self->expected);
    int rc = self->expected ? s_add_broker (self, config, options) : -1;
    for (size_t i = 0; i < config->service_count && rc == 0; i++)
        if (!options->enabled || options->enabled[i])
            rc = s_add_service (self, config, options, i);
    if (rc) {
        hearth_cli_plan_destroy (&self);
        return -1;
    }
    *plan_p = self;
    return 0;
}

void
hearth_cli_plan_destroy (hearth_cli_plan_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hearth_cli_plan_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        hearth_cli_child_t *child = &self->children[i];
        free (child->name);
        free (child->path);
        free (child->directory);
        hearth_cli_strv_free (&child->argv);
        hearth_cli_strv_free (&child->env);
    }
    free (self->children);
    free (self->expected);
    free (self);
    *self_p = NULL;
}
