/*
 * harness: the unit-test harness. CHECK records a pass or a failure with
 * file:line; each suite is a plain function; main prints
 * "N passed, N failed" and exits non-zero on any failure.
 */
#ifndef TL_HARNESS_H
#define TL_HARNESS_H

#include <stdio.h>
#include <string.h>

extern unsigned harness_passed, harness_failed;

#define CHECK(cond) do { \
	if (cond) { \
		harness_passed++; \
	} else { \
		harness_failed++; \
		fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_MSG(cond, ...) do { \
	if (cond) { \
		harness_passed++; \
	} else { \
		harness_failed++; \
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
	} \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *ha_ = (a), *hb_ = (b); \
	CHECK_MSG(ha_ != NULL && hb_ != NULL && strcmp(ha_, hb_) == 0, \
	    "\"%s\" != \"%s\"", ha_ ? ha_ : "(null)", hb_ ? hb_ : "(null)"); \
} while (0)

void suite_status(void);
void suite_frame(void);
void suite_dispatch(void);
void suite_config(void);
void suite_caller(void);
void suite_install(void);
void suite_classify(void);
void suite_history(void);
void suite_addrguard(void);
void suite_fetch(void);
void suite_revocation(void);
void suite_ct(void);
void suite_mime(void);
void suite_smime(void);
void suite_regdomain(void);

#endif
