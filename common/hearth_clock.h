/*  hearth_clock - monotonic milliseconds, for deadlines and heartbeats.
    Wall-clock time jumps (NTP, suspend) must not expire or revive peers.
*/
#ifndef HEARTH_CLOCK_H_INCLUDED
#define HEARTH_CLOCK_H_INCLUDED

#include <stdint.h>
#include <time.h>

static inline int64_t
hearth_clock_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t
hearth_clock_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
