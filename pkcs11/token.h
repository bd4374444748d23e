/*
 * token: the PKCS#11 layer (eID cards and other tokens), the only code that
 * talks to pkcs11-helper. Modules are loaded lazily, only by the functions
 * below that need them, never at host start-up.
 *
 * The `tokens` result (protocol and `tokens --json`):
 *   {"modules": [{"path": "...", "source": "config" | "builtin",
 *                 "found": bool, "loaded": bool, "error": "..." | null}],
 *    "tokens": [{"label", "manufacturer", "model", "serial",
 *                "module": "<path>", "belpic": bool,
 *                "has_signature_certificate": bool,
 *                "flags": {"login_required", "pin_initialized",
 *                          "pin_count_low", "pin_final_try", "pin_locked",
 *                          "protected_authentication_path": bool},
 *                "holder": {"name", "given_name", "surname"} | null,
 *                "certificates": [{"label", "id" (hex),
 *                   "subject": {"name", "given_name", "surname",
 *                               "common_name"},
 *                   "issuer" (its common name), "not_before", "not_after"
 *                   (RFC 3339), "days_left",
 *                   "key": {"type": "rsa" | "ec" | "other", "bits", "curve"},
 *                   "sha256", "eid_chain": "trusted" | "untrusted" |
 *                   "expired" | "not_eid", "revocation": "good" |
 *                   "revoked" | "unknown" | "not_checked",
 *                   "ca": bool, "card": "citizen" | "foreigner" | null,
 *                   "usage": "signature" | "authentication" | null}],
 *                "notes": ["<code>", ...]}]}
 * Tokens are ordered by module, label, serial; certificates by id. Notes:
 * empty, no_signature_certificate, pin_locked, pin_final_try,
 * pin_count_low, certificate_expires_soon (30 days), certificate_expired,
 * certificate_revoked, chain_untrusted, certificates_truncated,
 * certificates_unreadable (the module failed while they were read). Every
 * module candidate is listed, found or not; "error" says why one was not
 * found or not loaded, or that a loaded one failed to list its slots.
 * docs/tokens.md explains them.
 * The national register number (subject serialNumber) is never read out.
 */
#ifndef TL_TOKEN_H
#define TL_TOKEN_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

struct config;
struct tl_call;

/* "pkcs11-helper 1.29.0" into buf (always NUL-terminated). Loads no module. */
void token_library_version(char *buf, size_t len);

/* The `tokens` result above (new reference), or NULL with a sentence in err
 * when the token layer itself failed (a module that cannot be loaded is a
 * line in "modules", not a failure). Polls *cancel (may be NULL). */
json_t *token_list(const struct config *cfg, const atomic_int *cancel, char *err,
    size_t errlen);

/* The `tokens` request handler (dispatch table). */
int token_handle_tokens(struct tl_call *call);

/* `trustlens-host tokens [--json]` and
 * `trustlens-host sign-mail --in FILE --out FILE [--cert ...] [--token ...]`:
 * exit codes of cli.h. */
int token_cli(int argc, char **argv);
int token_cli_sign_mail(int argc, char **argv);

#endif
