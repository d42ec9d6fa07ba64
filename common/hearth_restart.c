/*  hearth_restart - restart backoff and crash loops. See the header.      */
#include "hearth_restart.h"
#include "hearth_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

struct _hearth_restart_t {
    char *name;
    int delay_ms;                   /* before the next start                */
    int64_t started_ms;
    bool healthy;                   /* marked so since the last start       */
    bool looping;                   /* crash loop already reported          */
    int64_t deaths[HEARTH_RESTART_LOOP_DEATHS];     /* ring of death times  */
    int death_next;
    int death_count;                /* up to HEARTH_RESTART_LOOP_DEATHS     */
};

hearth_restart_t *
hearth_restart_new (const char *name)
{
    hearth_restart_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->name = strdup (name);
    if (!self->name) {
        free (self);
        return NULL;
    }
    self->delay_ms = HEARTH_RESTART_MIN_MS;
    return self;
}

void
hearth_restart_destroy (hearth_restart_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->name);
    free (*self_p);
    *self_p = NULL;
}

void
hearth_restart_started (hearth_restart_t *self, int64_t now)
{
    self->started_ms = now;
    self->healthy = false;
}

void
hearth_restart_healthy (hearth_restart_t *self)
{
    self->healthy = true;
}

int
hearth_restart_died (hearth_restart_t *self, int64_t now)
{
    if (self->healthy || now - self->started_ms >= HEARTH_RESTART_HEALTHY_MS) {
        self->delay_ms = HEARTH_RESTART_MIN_MS;
        self->looping = false;
    }
    self->healthy = false;
    int delay = self->delay_ms;
    self->deaths[self->death_next] = now;
    self->death_next = (self->death_next + 1) % HEARTH_RESTART_LOOP_DEATHS;
    if (self->death_count < HEARTH_RESTART_LOOP_DEATHS)
        self->death_count++;
    /*  With the ring full, the slot just past the newest holds the oldest
        of the last HEARTH_RESTART_LOOP_DEATHS deaths.                      */
    int64_t oldest = self->deaths[self->death_next];
    if (self->death_count == HEARTH_RESTART_LOOP_DEATHS && !self->looping
    &&  now - oldest < HEARTH_RESTART_LOOP_MS) {
        self->looping = true;
        hearth_log_error ("%s: crash loop: died %d times within %d s; "
                          "restarting with backoff up to %d s", self->name,
                          HEARTH_RESTART_LOOP_DEATHS,
                          HEARTH_RESTART_LOOP_MS / 1000,
                          HEARTH_RESTART_MAX_MS / 1000);
    }
    self->delay_ms = delay > HEARTH_RESTART_MAX_MS / 2 ? HEARTH_RESTART_MAX_MS
                                                       : delay * 2;
    return delay;
}

bool
hearth_restart_looping (const hearth_restart_t *self)
{
    return self->looping;
}

const char *
hearth_restart_describe (int status, char *buf, size_t size)
{
    if (WIFEXITED (status))
        snprintf (buf, size, "exited with status %d", WEXITSTATUS (status));
    else
    if (WIFSIGNALED (status))
        snprintf (buf, size, "killed by signal %d (%s)", WTERMSIG (status),
                  strsignal (WTERMSIG (status)));
    else
        snprintf (buf, size, "ended (status 0x%x)", (unsigned) status);
    return buf;
}
