/*  hw_options - hearth-worker's command line, from one settings table.

    hw_settings[] holds every option that sets an hw_options_t field
    (processes, timeouts, framing, the descriptor texts...): its flag, type,
    range, default and help line, read through common/hearth_settings. The
    keys are those of a mesh.yml service where one exists (timeout_ms ->
    --timeout-ms; the older --timeout and --start-timeout stay as aliases),
    and schemas/WORKER.md lists each with its default (a test checks).
*/
#ifndef HW_OPTIONS_H_INCLUDED
#define HW_OPTIONS_H_INCLUDED

#include <stdio.h>
#include "hearth_settings.h"
#include "hw_host.h"

/*  One row per setting of hw_options_t, ended by a NULL key.              */
extern const hearth_setting_t hw_settings[];

/*  Fills options with the table's defaults and the endpoint (endpoint,
    else HEARTH_DEFAULT_ENDPOINT), then parses argv into it; COMMAND (after
    "--" or the first non-option) becomes options->argv. The strings point
    into argv. Returns 0, 1 when --help was printed, or -1 after printing
    why on a usage error.                                                   */
int hw_options_parse (hw_options_t *options, const char *endpoint, int argc,
                      char **argv);

/*  Prints --help to out.                                                   */
void hw_options_usage (FILE *out);

#endif
