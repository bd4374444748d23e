#!/usr/bin/python3
"""Helpers for tests/install/run.sh. Each command prints nothing and exits 0
when the check holds, or prints one line saying what is wrong and exits 1.

  check.py manifest FILE chromium|firefox HOST    a manifest install wrote
  check.py verdict REPORT.json AREA VERDICT [MESSAGE-PART [FIX-PART]]
  check.py same-areas A.json B.json               same area verdicts
  check.py text-matches REPORT.json TEXT-FILE     "text" is the plain report
  check.py absent FILE STRING...                  none of the strings in FILE
  check.py json-get REPORT.json PATH.TO.KEY       prints a value (for the shell)
"""
import json
import os
import stat
import sys

CHROMIUM_ID = "npfbfafbeggpjpnhdcidonbfednhhnij"
GECKO_ID = "trustlens@trustlens.org"


def die(msg):
    print(msg)
    sys.exit(1)


def strict_load(raw):
    def no_dupes(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            die("duplicate keys in JSON")
        return dict(pairs)
    return json.loads(raw.decode("utf-8"), object_pairs_hook=no_dupes)


def manifest(path, family, host):
    raw = open(path, "rb").read()
    if raw.startswith(b"\xef\xbb\xbf"):
        die("BOM at the start")
    if not raw.startswith(b"{"):
        die("does not start with {")
    m = strict_load(raw)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode != 0o644:
        die("mode %o, not 644" % mode)
    if m.get("name") != "org.trustlens.host":
        die("name %r" % m.get("name"))
    if m.get("type") != "stdio":
        die("type %r" % m.get("type"))
    p = m.get("path", "")
    if not os.path.isabs(p):
        die("path %r not absolute" % p)
    if not os.access(p, os.X_OK):
        die("path %r not executable" % p)
    if os.path.realpath(p) != os.path.realpath(host):
        die("path %r is not the host %r" % (p, host))
    if family == "firefox":
        want = {"name", "description", "path", "type", "allowed_extensions"}
        if m.get("allowed_extensions") != [GECKO_ID]:
            die("allowed_extensions %r" % m.get("allowed_extensions"))
    else:
        want = {"name", "description", "path", "type", "allowed_origins"}
        if m.get("allowed_origins") != ["chrome-extension://%s/" % CHROMIUM_ID]:
            die("allowed_origins %r (needs the id with the trailing slash)" % m.get("allowed_origins"))
    if set(m) != want:
        die("keys %r, expected %r" % (sorted(m), sorted(want)))


def area_of(report, name):
    for a in report.get("areas", []):
        if a.get("area") == name:
            return a
    die("no area %r in the report" % name)


def verdict(path, area, want, msg_part=None, fix_part=None):
    r = json.load(open(path))
    a = area_of(r, area)
    if a["verdict"] != want:
        die("%s: verdict %s (%s), expected %s" % (area, a["verdict"], a["message"], want))
    if msg_part and msg_part not in a["message"]:
        die("%s: message %r lacks %r" % (area, a["message"], msg_part))
    if want == "ok" and a.get("fix") is not None:
        die("%s: ok with a fix %r" % (area, a["fix"]))
    if want != "ok" and not a.get("fix"):
        die("%s: %s without a fix" % (area, want))
    if fix_part and fix_part not in (a.get("fix") or ""):
        die("%s: fix %r lacks %r" % (area, a.get("fix"), fix_part))
    # The same verdict line, and fix line, in the human text.
    line = "%-11s %-8s %s" % (area, want, a["message"])
    if line not in r["text"].splitlines():
        die("%s: the text lacks the verdict line %r" % (area, line))
    if want != "ok" and ("%-11s %-8s fix: %s" % ("", "", a["fix"])) not in r["text"].splitlines():
        die("%s: the text lacks the fix line" % area)


def same_areas(a, b):
    x = [(v["area"], v["verdict"], v["message"]) for v in json.load(open(a))["areas"]]
    y = [(v["area"], v["verdict"], v["message"]) for v in json.load(open(b))["areas"]]
    if x != y:
        die("areas differ: %r vs %r" % (x, y))


def text_matches(path, textfile):
    t = json.load(open(path))["text"].splitlines()[1:]
    u = open(textfile).read().splitlines()[1:]  # first line has the time
    if t != u:
        diff = [(i, p, q) for i, (p, q) in enumerate(zip(t, u)) if p != q][:2]
        die("JSON text and plain output differ (%d vs %d lines) %r" % (len(t), len(u), diff))


def absent(path, *needles):
    data = open(path, "rb").read()
    for n in needles:
        if n.encode() in data:
            die("%r found in %s" % (n, path))


def json_get(path, key):
    v = json.load(open(path))
    for k in key.split("."):
        v = v[int(k)] if isinstance(v, list) else v[k]
    print(v if not isinstance(v, (dict, list)) else json.dumps(v))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        {"manifest": manifest, "verdict": verdict, "same-areas": same_areas,
         "text-matches": text_matches, "absent": absent, "json-get": json_get}[cmd](*args)
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        die("%s: %s" % (type(e).__name__, e))
