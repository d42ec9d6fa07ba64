/*  hw_host - N slots (hw_slot) serving one service.                        */
#include "hw_host.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "hearth/hearth.h"
#include "hearth_log.h"
#include "hw_slot.h"

/*  hw_host_stop runs in signal handlers: its store must not lock.          */
_Static_assert (ATOMIC_BOOL_LOCK_FREE == 2, "atomic_bool must be lock-free");

struct _hw_host_t {
    hw_options_t options;
    atomic_bool stop;
    atomic_bool failed;
    hw_slot_t **slots;
    int count;
};

static int
s_check (const hw_options_t *o)
{
    const char *why = NULL;
    if (!o->service || !*o->service)
        why = "no service name (-s)";
    else
    if (strpbrk (o->service, ",[] \t\n"))
        why = "a service name cannot contain ',', '[', ']' or blanks";
    else
    if (!o->endpoint || !strstr (o->endpoint, "://"))
        why = "the broker endpoint must look like tcp://host:port";
    else
    if (o->processes < 1 || o->processes > HW_PROCESSES_MAX)
        why = "-n must be between 1 and 1024";
    else
    if (o->timeout_ms < 1 || o->start_timeout_ms < 1)
        why = "timeouts must be positive";
    else
    if (!o->argv || !o->argv[0])
        why = "no command after --";
    else
    if (o->ready_line && !*o->ready_line)
        why = "the ready line cannot be empty";
    if (why)
        hearth_log_error ("%s", why);
    return why ? -1 : 0;
}

hw_host_t *
hw_host_new (const hw_options_t *options)
{
    if (!options || s_check (options))
        return NULL;
    hw_host_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->options = *options;
    atomic_init (&self->stop, false);
    atomic_init (&self->failed, false);
    self->slots = calloc ((size_t) options->processes, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    for (; self->count < options->processes; self->count++) {
        self->slots[self->count] = hw_slot_new (&self->options, self->count,
                                                &self->stop, &self->failed);
        if (!self->slots[self->count]) {
            hearth_log_error ("cannot create a worker for service %s "
                              "(reserved or invalid name?)", options->service);
            hw_host_destroy (&self);
            return NULL;
        }
    }
    return self;
}

int
hw_host_start (hw_host_t *self)
{
    /*  A write to a child that just died must fail with EPIPE, not kill us. */
    signal (SIGPIPE, SIG_IGN);
    hearth_log_info ("serving %s with %d %s of %s (%s framing)",
                     self->options.service, self->count,
                     self->options.per_request
                     ? "concurrent run(s) per request" : "warm process(es)",
                     self->options.argv[0],
                     hw_framing_name (self->options.framing));
    for (int i = 0; i < self->count; i++)
        if (hw_slot_start (self->slots[i])) {
            hearth_log_error ("cannot start a supervisor thread");
            hw_host_stop (self);
            return -1;
        }
    return 0;
}

void
hw_host_stop (hw_host_t *self)
{
    if (self)
        atomic_store (&self->stop, true);
}

bool
hw_host_failed (hw_host_t *self)
{
    return atomic_load (&self->failed);
}

int
hw_host_serving (hw_host_t *self)
{
    int serving = 0;
    for (int i = 0; i < self->count; i++)
        serving += hw_slot_serving (self->slots[i]);
    return serving;
}

void
hw_host_destroy (hw_host_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hw_host_t *self = *self_p;
    atomic_store (&self->stop, true);
    for (int i = 0; i < self->count; i++)
        hw_slot_destroy (&self->slots[i]);
    free (self->slots);
    free (self);
    *self_p = NULL;
}
