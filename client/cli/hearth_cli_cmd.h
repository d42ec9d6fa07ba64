/*  hearth_cli_cmd - the commands of the hearth CLI: call, services, ping.
*/
#ifndef HEARTH_CLI_CMD_H_INCLUDED
#define HEARTH_CLI_CMD_H_INCLUDED

#include "hearth_cli_args.h"

/*  Runs the command argv[0] with its arguments. Returns the exit code.     */
int hearth_cli_cmd_run (const hearth_cli_opts_t *opts, int argc, char **argv);

#endif
