/*  hearth_cli_args - the global command line: options before COMMAND.
*/
#ifndef HEARTH_CLI_ARGS_H_INCLUDED
#define HEARTH_CLI_ARGS_H_INCLUDED

#include <stdbool.h>
#include <stdio.h>

#define HEARTH_CLI_TIMEOUT_MS 30000

typedef struct {
    const char *broker;         /* endpoint (points into argv or environ)   */
    int timeout_ms;
    bool verbose;
} hearth_cli_opts_t;

/*  Parses the global options of argv into opts. Returns -1 and prints why
    on a usage error; 1 when --help or --version was printed (exit 0);
    else 0 with *command set to the index of COMMAND in argv (argc if none). */
int hearth_cli_args_parse (int argc, char **argv, hearth_cli_opts_t *opts,
                           int *command);

/*  Parses a decimal integer in [min, max] with hearth_number_int (common/,
    the one number parser). Returns 0, or -1 if text is not
    one (empty, trailing characters, out of range).                          */
int hearth_cli_args_int (const char *text, int min, int max, int *value);

/*  Prints the error for the unknown option getopt_long just met in argv;
    command names whose --help to suggest ("hearth", "hearth call").        */
void hearth_cli_args_unknown (const char *command, char **argv);

/*  Prints the global usage to out.                                          */
void hearth_cli_args_usage (FILE *out);

#endif
