/*
 * diagnose_tokens: the "tokens" area, from the token layer's own list
 * (token_list, pkcs11/token.h): which PKCS#11 modules were found and
 * loaded, which tokens are present, whether one is a Belgian eID card
 * (BELPIC), and for each certificate its expiry (a warning within 30
 * days, a problem once expired), its eID chain and its revocation status.
 *
 * Copied into the report: module paths, token labels, certificate labels,
 * key types, dates and statuses. Left out on purpose: holder names, card
 * serial numbers, certificate subjects and anything that could carry the
 * national register number.
 */
#define _DEFAULT_SOURCE
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../pkcs11/token.h"
#include "config.h"
#include "diagnose_internal.h"

#define EXPIRY_WARN_DAYS 30

static const char *
str_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

static void
one_module(struct diag_area *a, json_t *m, json_t *out, int *found, int *loaded)
{
	char shown[PATH_MAX];
	const char *path = str_or(m, "path", "?"), *error = str_or(m, "error", NULL);
	int f = json_is_true(json_object_get(m, "found"));
	int l = json_is_true(json_object_get(m, "loaded"));

	diag_path(path, shown, sizeof(shown));
	*found += f;
	*loaded += l;
	if (!f && strcmp(str_or(m, "source", "builtin"), "config") == 0)
		diag_find(a, DIAG_WARNING, "Correct TRUSTLENS_PKCS11_MODULES (or \"pkcs11_modules\" "
		    "in the config file), or remove the entry.",
		    "The configured PKCS#11 module %s was not found.", shown);
	json_array_append_new(out, json_pack("{s:s, s:s, s:b, s:b, s:s?}", "path", shown,
	    "source", str_or(m, "source", "builtin"), "found", f, "loaded", l, "error", error));
	if (f)
		diag_line(a, "module %s: %s%s%s", shown, l ? "loaded" : "NOT loaded",
		    error != NULL ? ", " : "", error != NULL ? error : "");
}

static void
one_token(struct diag_area *a, json_t *t, json_t *out, int *eid)
{
	const char *label = str_or(t, "label", "?"), *clabel, *not_after, *chain, *rev;
	json_t *certs = json_object_get(t, "certificates"), *c, *list = json_array();
	int belpic = json_is_true(json_object_get(t, "belpic")), days;
	size_t i;

	*eid += belpic;
	diag_line(a, "token \"%s\"%s: %zu certificate(s)", label, belpic ? " (Belgian eID card)" :
	    "", json_array_size(certs));
	json_array_foreach(certs, i, c) {
		clabel = str_or(c, "label", "?");
		not_after = str_or(c, "not_after", "?");
		chain = str_or(c, "eid_chain", "?");
		rev = str_or(c, "revocation", "not_checked");
		days = (int)json_integer_value(json_object_get(c, "days_left"));
		json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:s, s:s, s:O?}", "label",
		    clabel, "not_after", not_after, "days_left", days, "eid_chain", chain,
		    "revocation", rev, "key", json_object_get(c, "key")));
		diag_line(a, "  %s: valid until %s (%d days), chain %s, revocation %s", clabel,
		    not_after, days, chain, rev);
		if (strcmp(rev, "revoked") == 0)
			diag_find(a, DIAG_PROBLEM, "Have the card's certificates renewed (for an "
			    "eID card: at the town hall).", "The certificate \"%s\" on token "
			    "\"%s\" is revoked.", clabel, label);
		else if (json_object_get(c, "days_left") != NULL && days < 0)
			diag_find(a, DIAG_PROBLEM, "Have the card's certificates renewed (for an "
			    "eID card: at the town hall).", "The certificate \"%s\" on token "
			    "\"%s\" expired on %s.", clabel, label, not_after);
		else if (json_object_get(c, "days_left") != NULL && days <= EXPIRY_WARN_DAYS)
			diag_find(a, DIAG_WARNING, "Renew the card's certificates before they "
			    "expire (for an eID card: at the town hall).",
			    "The certificate \"%s\" on token \"%s\" expires in %d days (%s).",
			    clabel, label, days, not_after);
		else if (belpic && strcmp(chain, "untrusted") == 0)
			diag_find(a, DIAG_WARNING, "Update TrustLens (its Belgian eID roots may be "
			    "older than the card).", "The certificate \"%s\" on the eID card does "
			    "not chain to a known Belgian eID root.", clabel);
	}
	json_array_append_new(out, json_pack("{s:s, s:b, s:o}", "label", label, "belpic",
	    belpic, "certificates", list));
}

void
diag_tokens(struct diag_area *a, const struct config *cfg, const atomic_int *cancel)
{
	char err[256];
	json_t *r, *v, *mods = json_array(), *toks = json_array();
	int found = 0, loaded = 0, eid = 0;
	size_t i;

	err[0] = '\0';
	r = token_list(cfg, cancel, err, sizeof(err));
	if (r == NULL) {
		json_decref(mods);
		json_decref(toks);
		json_object_set_new(a->details, "error", json_string(err));
		diag_line(a, "the token layer answered: %s", err);
		diag_find(a, DIAG_WARNING, "Update TrustLens; if this stays, send this report to "
		    "the helpdesk.", "Tokens could not be listed: %s.", err);
		return;
	}
	json_array_foreach(json_object_get(r, "modules"), i, v)
		one_module(a, v, mods, &found, &loaded);
	diag_line(a, "%zu module path(s) tried, %d present", json_array_size(mods), found);
	json_array_foreach(json_object_get(r, "tokens"), i, v)
		one_token(a, v, toks, &eid);
	json_object_set_new(a->details, "modules", mods);
	json_object_set_new(a->details, "tokens", toks);
	json_object_set_new(a->details, "eid_card_present", json_boolean(eid > 0));
	if (found == 0)
		diag_find(a, DIAG_WARNING, "Install the Belgian eID middleware (eid-mw) to use "
		    "an eID card.", "No PKCS#11 module was found: no eID card can be used.");
	else if (loaded == 0)
		diag_find(a, DIAG_PROBLEM, "Reinstall the eID middleware (eid-mw); check the "
		    "module paths above.", "PKCS#11 modules were found but none could be loaded.");
	else if (json_array_size(toks) == 0)
		diag_find(a, DIAG_OK, NULL, "%d PKCS#11 module(s) loaded; no card or token "
		    "is inserted.", loaded);
	diag_find(a, DIAG_OK, NULL, "%d PKCS#11 module(s) loaded, %zu token(s), %s.", loaded,
	    json_array_size(toks), eid > 0 ? "an eID card is present" : "no eID card");
	json_decref(r);
}
