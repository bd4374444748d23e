/*
 * cli: subcommand parsing and the commands that exist in this version.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "diagnose.h"
#include "dispatch.h"
#include "install.h"
#include "mail.h"
#include "site.h"
#include "../pkcs11/token.h"
#include "version.h"

static const char usage_text[] =
    "usage: trustlens-host COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  site URL [--json]          who is proven to be behind a website\n"
    "  mail FILE|- [--json]       check the S/MIME signature of a message\n"
    "  tokens [--json]            list eID cards and other tokens\n"
    "  sign-mail --in FILE --out FILE [--cert Signature|Authentication] [--token LABEL]\n"
    "                             sign a message with an eID card (S/MIME)\n"
    "  diagnose [--json]          report why TrustLens does or does not work\n"
    "  install [--user|--system] [--browser NAME]... [--manifest-dir DIR]\n"
    "                             register the host with the browsers\n"
    "  uninstall [--user|--system] [--browser NAME]... [--manifest-dir DIR]\n"
    "                             remove what install wrote\n"
    "  --version                  print the version\n"
    "  --help                     print this help\n"
    "\n"
    "Launched by a browser (chrome-extension://ID/ or a Firefox manifest path\n"
    "and add-on id as arguments) it speaks the native-messaging protocol.\n"
    "See trustlens-host(1).\n";

void
cli_print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
}

void
cli_print_error(int as_json, enum tl_status st, const char *message)
{
	json_t *e;

	if (as_json) {
		e = json_pack("{s:{s:s, s:s}}", "error", "code", status_code(st),
		    "message", message);
		if (e != NULL)
			cli_print_json(e);
		json_decref(e);
	}
	fprintf(stderr, "trustlens-host: %s (%s)\n", message, status_code(st));
}

static int
usage(const char *problem)
{
	if (problem != NULL)
		fprintf(stderr, "trustlens-host: %s\n", problem);
	fputs(usage_text, stderr);
	return CLI_USAGE;
}

/* First line: the host's version (scripts read it); then one line per
 * library it was linked with, as running now. */
static void
print_version(void)
{
	char p11[64];

	token_library_version(p11, sizeof(p11));
	printf("trustlens-host %s\n", TL_VERSION);
	printf("native-messaging protocol %d\n", TL_PROTOCOL);
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
	printf("jansson %s\n", jansson_version_str());
	printf("%s\n", p11);
}

int
cli_main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage(NULL);
	cmd = argv[1];
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		print_version();
		return CLI_OK;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return CLI_OK;
	}
	if (strcmp(cmd, "install") == 0)
		return install_cli(argc, argv, 0);
	if (strcmp(cmd, "uninstall") == 0)
		return install_cli(argc, argv, 1);
	if (strcmp(cmd, "site") == 0)
		return site_cli(argc, argv);
	if (strcmp(cmd, "mail") == 0)
		return mail_cli(argc, argv);
	if (strcmp(cmd, "tokens") == 0)
		return token_cli(argc, argv);
	if (strcmp(cmd, "sign-mail") == 0)
		return token_cli_sign_mail(argc, argv);
	if (strcmp(cmd, "diagnose") == 0)
		return diagnose_cli(argc, argv);
	return usage("unknown command");
}
