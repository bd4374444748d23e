/*
 * laststart: when a browser last started the host, for which extension,
 * and whether that extension was allowed.
 *
 * One small JSON file, last-start.json in the state directory, replaced
 * atomically (temporary file, rename) at the start of every browser
 * session, before the caller is answered. Failure to write is ignored: it
 * is a diagnostic aid, never a reason not to serve. The extension id is
 * recorded only when it has the shape of an id (Chromium: 32 letters a-p;
 * Firefox: letters, digits and @ . _ - { }), never an arbitrary argv
 * string. Nothing else about the session is kept.
 */
#ifndef TL_LASTSTART_H
#define TL_LASTSTART_H

#include <jansson.h>

struct caller;
struct config;

#define LASTSTART_FILE "last-start.json"

/* Records this start. Silent on any failure. */
void laststart_record(const struct config *cfg, const struct caller *who, int allowed);

/* The recorded start as {"time", "browser_kind", "extension_id",
 * "allowed_then", "version"} (new reference), or NULL when there is none
 * or it cannot be read. */
json_t *laststart_read(const struct config *cfg);

#endif
