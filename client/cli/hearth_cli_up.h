/*  hearth_cli_up - `hearth up [-c mesh.yml]`: the broker and every service's
    workers as one supervised tree (hearth_supervisor), ready when each
    service has its workers, stopped in order (workers, then the broker) on
    Ctrl-C or SIGTERM. Without -c it runs the embedded default mesh of the
    example experts. See docs/cli.md and schemas/CONFIG.md.
*/
#ifndef HEARTH_CLI_UP_H_INCLUDED
#define HEARTH_CLI_UP_H_INCLUDED

#include "hearth_cli_args.h"

/*  The head of `hearth up --help`: the usage line and what up does. The
    options follow it, printed from up's settings table.                    */
extern const char hearth_cli_up_usage[];

/*  Runs `up` with its arguments (argv[0] is "up"). Returns the exit code:
    0 after a clean stop, 1 when the mesh cannot start (config error,
    missing program, broker that will not start), 2 on a usage error.      */
int hearth_cli_up (const hearth_cli_opts_t *opts, int argc, char **argv);

#endif
