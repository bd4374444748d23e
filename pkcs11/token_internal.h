/*
 * token_internal: what the files of the token layer share.
 *
 *   token_module.c   where modules are looked for; one pkcs11-helper session
 *                    (initialise, add the modules, terminate) under the
 *                    process-wide token lock; the scan of tokens and their
 *                    certificates
 *   token_list.c     the `tokens` result: trust, revocation, JSON
 *   token_pin.c      asking for the PIN: pin pad, TRUSTLENS_PIN_FD, the
 *                    terminal, a pinentry program
 *   token_sign.c     `sign-mail`: the RFC 8551 message, signed on the card
 *   token.c          the request handler and the command lines
 *
 * Nothing here holds a PIN longer than one call, and nothing reads the
 * subject serialNumber of a certificate (the national register number on a
 * Belgian eID card).
 */
#ifndef TL_TOKEN_INTERNAL_H
#define TL_TOKEN_INTERNAL_H

#include <openssl/x509.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include <pkcs11-helper-1.0/pkcs11h-core.h>

struct config;

#define TOKEN_MAX_MODULES 80       /* CONFIG_MAX_LIST + the built-in list */
#define TOKEN_MAX_SLOTS 32         /* tokens read per module */
#define TOKEN_MAX_TOKENS 32        /* tokens in one scan */
#define TOKEN_MAX_CERTS 16         /* certificates read per token */
#define TOKEN_CERT_MAX_BYTES 16384 /* one certificate's DER */
#define TOKEN_LABEL_MAX 130        /* CKA_LABEL as UTF-8, cut */
#define TOKEN_ID_MAX 64            /* CKA_ID bytes */
#define TOKEN_PATH_MAX 4096

struct token_module {
	char path[TOKEN_PATH_MAX];
	const char *source;            /* "config" or "builtin" */
	int found;                     /* the file exists */
	int loaded;                    /* pkcs11-helper initialised it */
	char error[200];               /* not found, not loaded, or failed to list */
	char ref[16];                  /* pkcs11-helper's reference name */
	CK_FUNCTION_LIST_PTR f;        /* its functions, while the session lasts */
	void *dl;                      /* our reference to the loaded object */
};

struct token_cert {
	char label[TOKEN_LABEL_MAX];
	unsigned char id[TOKEN_ID_MAX];
	size_t id_len;
	X509 *x509;                    /* owned */
};

struct token_entry {
	size_t module;                 /* index into the session's modules */
	CK_SLOT_ID slot;
	char label[33], manufacturer[33], model[17], serial[17]; /* as pkcs11-helper
	                                  trims them, made printable */
	CK_FLAGS flags;                /* CK_TOKEN_INFO flags */
	struct token_cert certs[TOKEN_MAX_CERTS];
	size_t n_certs;
	int certs_truncated;
	CK_RV read_error;              /* the module failed while the certificates
	                                  were read (CKR_OK: they were) */
};

struct token_session {
	struct token_module modules[TOKEN_MAX_MODULES];
	size_t n_modules;
	struct token_entry tokens[TOKEN_MAX_TOKENS];
	size_t n_tokens;
	int open;                      /* pkcs11-helper initialised, lock held */
};

/* Takes the token lock, initialises pkcs11-helper and adds every module
 * that exists (errors stay on the module). `pin_ctx` is given to the PIN
 * hook (NULL: no PIN may be asked). Returns 0, or -1 with a sentence in err
 * when pkcs11-helper itself could not start (the lock is then released). */
int token_session_open(struct token_session *s, void *pin_ctx, char *err, size_t errlen);

/* Reads every initialised token of every loaded module and their
 * certificates (no login). Polls cancel. */
void token_session_scan(struct token_session *s, const atomic_int *cancel);

/* Terminates pkcs11-helper (every module unloaded) and releases the lock;
 * what the scan read stays. Safe on a session never opened, or closed. */
void token_session_close(struct token_session *s);

/* A new session (calloc'd: it is large), candidates found; NULL when out
 * of memory. _free closes it and frees it with what the scan read. */
struct token_session *token_session_new(const struct config *cfg);
void token_session_free(struct token_session *s);

/* The token's current CK_TOKEN_INFO flags (after a failed login), or 0. */
CK_FLAGS token_session_flags(struct token_session *s, const struct token_entry *t);

/* The module's answer to C_GetTokenInfo for the token's slot now
 * (CKR_TOKEN_NOT_PRESENT once the card is out), its flags in *flags. */
CK_RV token_session_probe(struct token_session *s, const struct token_entry *t,
    CK_FLAGS *flags);

/* While on, the module's first answer to a failed private-key operation is
 * kept (pkcs11-helper retries and reports only the retry's outcome);
 * turning it on clears it. token_key_error: that answer, or CKR_OK. */
void token_key_watch(int on);
CK_RV token_key_error(void);

/* 1 when the label names a Belgian eID card ("BELPIC", as the eID
 * middleware and OpenSC label it). */
int token_label_is_belpic(const char *label);

/* PIN prompting (token_pin.c). */
struct token_pin_ctx {
	const char *token_label;       /* shown in the prompt */
	int final_try;                 /* the card says: last try */
	int count_low;
	int asked;                     /* the hook ran */
	int cancelled;                 /* the user cancelled (or gave nothing) */
	int unavailable;               /* no way to ask */
	char why[200];                 /* for unavailable */
};

PKCS11H_BOOL token_pin_hook(void *global_data, void *user_data,
    const pkcs11h_token_id_t token, const unsigned retry, char *pin, const size_t pin_max);

/* Copies src into dst as valid UTF-8 for JSON and people: bytes below
 * 0x20, 0x7f and invalid UTF-8 become '?', trailing blanks are cut, and the
 * result is cut on a character boundary. */
void token_printable(char *dst, size_t dstlen, const unsigned char *src, size_t srclen);

/* "02", "0a1b": lower-case hex of an id (out has 2 * TOKEN_ID_MAX + 1). */
void token_hex(const unsigned char *id, size_t len, char *out, size_t outlen);

/* The command line keeps fd 1 for its report: while modules are loaded it
 * points at stderr (a module that prints cannot corrupt `--json`).
 * Returns the saved descriptor (or -1) for token_stdout_restore. */
int token_stdout_guard(void);
void token_stdout_restore(int saved);

#endif
