/* history: counts per sender, idempotence, forged Message-IDs, two
 * connections at once. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "history.h"

#define CERT_A "aaaa000000000000000000000000000000000000000000000000000000000000"
#define CERT_B "bbbb000000000000000000000000000000000000000000000000000000000000"

void
suite_history(void)
{
	char dir[] = "/tmp/tl-history-XXXXXX", err[256], cmd[256];
	struct config cfg;
	struct history *h, *h2;
	struct history_view v;

	CHECK(mkdtemp(dir) != NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.state_dir = dir;
	h = history_open(&cfg, err, sizeof(err));
	h2 = history_open(&cfg, err, sizeof(err));
	CHECK_MSG(h != NULL && h2 != NULL, "%s", err);
	if (h == NULL || h2 == NULL)
		goto out;

	/* First signed mail from alice: no past. */
	CHECK(history_observe(h, "Alice@Example.org", "m1@x", 1, CERT_A, 100, &v) == 0);
	CHECK(v.signed_before == 0 && v.unsigned_before == 0 && !v.signer_changed);
	/* Opened again (other process): counted once, its own row excluded. */
	CHECK(history_observe(h2, "alice@example.org", "m1@x", 1, CERT_A, 101, &v) == 0);
	CHECK(v.signed_before == 0 && v.unsigned_before == 0);
	/* Second signed mail: one signed before, known signer. */
	CHECK(history_observe(h, "alice@example.org", "m2@x", 1, CERT_A, 102, &v) == 0);
	CHECK(v.signed_before == 1 && v.known_signer && !v.signer_changed);
	/* An unsigned one: she usually signs. */
	CHECK(history_observe(h, "alice@example.org", "m3@x", 0, NULL, 103, &v) == 0);
	CHECK(v.signed_before == 2 && v.unsigned_before == 0);
	/* A forgery reusing a genuine Message-ID still sees the genuine mails. */
	CHECK(history_observe(h2, "alice@example.org", "m1@x", 0, NULL, 104, &v) == 0);
	CHECK_MSG(v.signed_before == 2, "signed_before %u", v.signed_before);
	CHECK(v.unsigned_before == 1);
	/* Signed by another certificate: changed, and still changed the
	 * next time (an impostor's second mail is not confirmation). */
	CHECK(history_observe(h, "alice@example.org", "m4@x", 1, CERT_B, 105, &v) == 0);
	CHECK(v.signer_changed && !v.known_signer);
	CHECK(history_observe(h, "alice@example.org", "m4b@x", 1, CERT_B, 105, &v) == 0);
	CHECK(v.signer_changed && !v.known_signer);
	/* The first certificate stays known. */
	CHECK(history_observe(h2, "alice@example.org", "m4c@x", 1, CERT_A, 105, &v) == 0);
	CHECK(v.known_signer && !v.signer_changed);
	/* Once the reader confirms the new certificate, it is known. */
	CHECK(history_confirm(h, "Alice@example.org", CERT_B, 106) == 0);
	CHECK(history_observe(h2, "alice@example.org", "m4d@x", 1, CERT_B, 107, &v) == 0);
	CHECK(v.known_signer && !v.signer_changed);
	CHECK(history_confirm(h, "alice@example.org", "not-a-hash", 106) == -1);
	/* Another sender is separate. */
	CHECK(history_observe(h, "bob@example.org", "m5@x", 0, NULL, 106, &v) == 0);
	CHECK(v.signed_before == 0 && v.unsigned_before == 0);
	/* Bad input. */
	CHECK(history_observe(h, "", "k", 0, NULL, 1, &v) == -1);
	CHECK(history_observe(NULL, "a@b", "k", 0, NULL, 1, &v) == -1);
out:
	history_close(h);
	history_close(h2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	/* A state directory that cannot be made. */
	cfg.state_dir = (char *)(uintptr_t)"/proc/nonexistent/x";
	CHECK(history_open(&cfg, err, sizeof(err)) == NULL);
}
