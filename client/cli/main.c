/*  hearth - command-line client of a Hearth broker. See docs/cli.md.
    A thin main: options, then the command; all work is in the modules.
*/
#include "hearth_cli_args.h"
#include "hearth_cli_cmd.h"
#include "hearth_cli_out.h"
#include "hearth_log.h"

int
main (int argc, char **argv)
{
    hearth_log_set_ident ("hearth");
    hearth_cli_opts_t opts;
    int command;
    int rc = hearth_cli_args_parse (argc, argv, &opts, &command);
    if (rc)
        return rc > 0 ? HEARTH_EXIT_OK : HEARTH_EXIT_USAGE;
    if (command >= argc) {
        hearth_cli_out_fail ("no command given (try 'hearth --help')");
        return HEARTH_EXIT_USAGE;
    }
    if (opts.verbose)
        hearth_log_set_level (HEARTH_LOG_DEBUG);
    return hearth_cli_cmd_run (&opts, argc - command, argv + command);
}
