/*  status_table - prints the C library's error table, so the Python
    package's mapping (client/python/hearth/errors.py) is checked against
    the real functions rather than a copy of them:

        status <three digits> <hearth_error_name (hearth_error_from_status)>
        error <hearth_error_name> <hearth_strerror>

    one line each, for every status 000 to 999 and every error code.
    Read by client/python/tests/test_protocol.py.
*/
#include <stdio.h>

#include "hearth/hearth.h"

int
main (void)
{
    /*  A status frame is three ASCII digits (PROTOCOL.md), so these are
        all the statuses a reply can carry.                                 */
    for (int status = 0; status <= 999; status++)
        printf ("status %03d %s\n", status,
                hearth_error_name (hearth_error_from_status (status)));
    for (int error = 0; error < HEARTH_ERROR_COUNT; error++)
        printf ("error %s %s\n", hearth_error_name (error), hearth_strerror (error));
    return ferror (stdout) ? 1 : 0;
}
