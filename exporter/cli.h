/* cli: sloe's command line: parses the command and its flags and runs it. */
#ifndef SLOE_CLI_H
#define SLOE_CLI_H

#include <stdio.h>

#ifndef SLOE_VERSION
#define SLOE_VERSION "0.1.0"
#endif
#ifndef SLOE_REVISION
#define SLOE_REVISION "unknown"
#endif

/* Exit codes of every command. */
enum { CLI_OK = 0, CLI_INVALID = 1, CLI_USAGE = 2 };

/* Runs sloe with argv; output goes to out, messages to err. Returns the exit code. */
int cli_main(int argc, char **argv, FILE *out, FILE *err);

#endif
