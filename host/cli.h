/*
 * cli: the command line of DESIGN.md s. 6, used when the host is not
 * launched by a browser. Output goes to stdout (reports) and stderr
 * (errors). Exit codes: 0 a report or verdict was produced, 2 usage error,
 * 3 it could not be evaluated.
 */
#ifndef TL_CLI_H
#define TL_CLI_H

#define CLI_OK 0
#define CLI_USAGE 2
#define CLI_FAILED 3

int cli_main(int argc, char **argv);

#endif
