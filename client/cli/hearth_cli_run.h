/*  hearth_cli_run - `hearth run ROUTE`: bulk work over JSON lines.

    Reads one JSON document per line from stdin, keeps up to -j of them in
    flight on one client, writes each reply on stdout in input order, and
    each failure as one JSON line to --errors FILE (or a few to stderr). See
    docs/cli.md for the contract: every input line that is not blank gives
    exactly one output or error line.
*/
#ifndef HEARTH_CLI_RUN_H_INCLUDED
#define HEARTH_CLI_RUN_H_INCLUDED

#include "hearth_cli_args.h"

/*  The text of `hearth run --help`.                                         */
extern const char hearth_cli_run_usage[];

/*  Runs `run` with its arguments (argv[0] is "run"). Returns the exit code:
    0 when every document succeeded, else the code of the most common
    failure class (ties: the lowest code), 1 on an I/O error, 2 on a usage
    error.                                                                   */
int hearth_cli_run (const hearth_cli_opts_t *opts, int argc, char **argv);

#endif
