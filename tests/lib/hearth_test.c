/*  hearth_test - the counters and reports behind the test kit's macros.  */
#include "hearth_test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

atomic_int hearth_test_checks;
atomic_int hearth_test_failures;

/*  Registered at the first failure: a main that returns 0 after a failed
    check still ends with exit 1, so no failure can pass unseen.            */
static void
s_failed_at_exit (void)
{
    if (atomic_load (&hearth_test_failures) > 0) {
        fflush (NULL);
        _exit (1);
    }
}

void
hearth_test_fail (const char *file, int line, const char *format, ...)
{
    if (atomic_fetch_add (&hearth_test_failures, 1) == 0)
        atexit (s_failed_at_exit);
    /*  One write per line, so lines from different threads do not mix.    */
    char text[1024];
    int used = snprintf (text, sizeof text, "%s:%d: FAIL: ", file, line);
    va_list args;
    va_start (args, format);
    if (used >= 0 && (size_t) used < sizeof text)
        vsnprintf (text + used, sizeof text - (size_t) used, format, args);
    va_end (args);
    fprintf (stderr, "%s\n", text);
}

void
hearth_test_stop (void)
{
    hearth_test_result ();
    fprintf (stderr, "stopped: a required check failed\n");
    /*  _exit, not exit: other threads may still be running the code under
        test, and destructors or leak reports would only bury the FAIL.     */
    fflush (NULL);
    _exit (1);
}

void
hearth_test_run (const char *name, void (*test) (void))
{
    int before = atomic_load (&hearth_test_failures);
    test ();
    printf ("%s %s\n", atomic_load (&hearth_test_failures) == before ? "ok  "
                                                                      : "FAIL",
            name);
    fflush (stdout);
}

int
hearth_test_result (void)
{
    int failures = atomic_load (&hearth_test_failures);
    printf ("%d checks, %d failed\n", atomic_load (&hearth_test_checks),
            failures);
    fflush (stdout);
    return failures ? 1 : 0;
}
