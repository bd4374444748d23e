/*
 * mail: the `mail` request and `trustlens-host mail FILE|-`.
 *
 * From one raw RFC 5322 message to the mail verdict of DESIGN.md s. 4:
 * parse (mime), verify every signature that signs the mail itself (smime),
 * check the signer's revocation (revfetch), bind the From address to the
 * certificate, measure what the signature covers, consult and update the
 * sender's history (history), then decide. Rules and sources:
 * docs/mail-signatures.md.
 */
#ifndef TL_MAIL_H
#define TL_MAIL_H

#include "call.h"

#define MAIL_SIGNING_SKEW 3600   /* signingTime vs Date before a reason */

int mail_handle(struct tl_call *call);

/* `confirm_signer` {from, cert_sha256}: the reader confirmed a new signer
 * certificate for this sender (after a signer_changed warning). */
int mail_handle_confirm(struct tl_call *call);
int mail_cli(int argc, char **argv);
void mail_shutdown(void);

#endif
