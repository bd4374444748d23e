/*
 * cli: the command line of DESIGN.md s. 6, used when the host is not
 * launched by a browser. Output goes to stdout (reports) and stderr
 * (errors). Exit codes: 0 a report or verdict was produced, 2 usage error,
 * 3 it could not be evaluated.
 */
#ifndef TL_CLI_H
#define TL_CLI_H

#include <jansson.h>

#include "status.h"

#define CLI_OK 0
#define CLI_USAGE 2
#define CLI_FAILED 3

int cli_main(int argc, char **argv);

/* Prints a result as one line of compact JSON on stdout. */
void cli_print_json(const json_t *v);

/* Reports a failure: {"error": {"code", "message"}} on stdout when
 * as_json, and always one line on stderr. */
void cli_print_error(int as_json, enum tl_status st, const char *message);

#endif
