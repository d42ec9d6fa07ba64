/*  hearth-worker - keeps any stdin/stdout program warm as a Hearth service.

    A thin main over hw_host: parse the command line (hw_options), block
    the stop signals, start the host and wait. See schemas/WORKER.md.
*/
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include "hearth_log.h"
#include "hw_host.h"
#include "hw_options.h"

#define S_EXIT_USAGE 2

/*  Waits for SIGINT/SIGTERM (blocked in every thread, taken here) or for
    the host to fail on its own.                                            */
static int
s_wait (hw_host_t *host, const sigset_t *signals)
{
    struct timespec tick = { 0, 200 * 1000000L };
    while (!hw_host_failed (host)) {
        int sig = sigtimedwait (signals, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
            hearth_log_info ("%s: stopping children", sig == SIGINT
                             ? "SIGINT" : "SIGTERM");
            return 0;
        }
    }
    return 1;
}

int
main (int argc, char **argv)
{
    hearth_log_set_ident ("hearth-worker");
    hw_options_t options;
    int rc = hw_options_parse (&options, getenv ("HEARTH_BROKER"), argc, argv);
    if (rc) {
        if (rc < 0)
            fprintf (stderr, "Try 'hearth-worker --help'.\n");
        return rc > 0 ? 0 : S_EXIT_USAGE;
    }
    /*  Python block-buffers stdout on a pipe, so an expert that prints its
        reply without flushing would never answer: ask Python not to, as a
        terminal would. Set before any thread exists; a value the user set
        (even empty, which turns it off) is kept. WORKER.md section 1.      */
    setenv ("PYTHONUNBUFFERED", "1", 0);
    /*  Blocked before any thread exists, so every thread inherits it and
        only sigtimedwait below sees the stop signals. Children get an
        empty mask from posix_spawn.                                         */
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    hw_host_t *host = hw_host_new (&options);
    if (!host)
        return S_EXIT_USAGE;
    int result = 1;
    if (hw_host_start (host) == 0)
        result = s_wait (host, &signals);
    hw_host_destroy (&host);
    hearth_log_info ("stopped");
    return result;
}
