#!/usr/bin/env python3
"""validate.py: every answer the end-to-end tests received, checked against docs/openapi.json.

Usage: validate.py OPENAPI_JSON RESPONSES_JSONL

RESPONSES_JSONL is what the test HTTP client (tests/lib/http.c) writes when
CALENDENCE_RESPONSE_LOG is set: one JSON line per answer, {method, path,
status, request_id, content_type, body}. For each answer the operation is
found by method and path template (HEAD is GET); its status must be one the
operation documents, and a JSON body must validate (jsonschema, Draft 2020-12,
"#/components/..." references resolved in the document) against the schema of
that status. Exits 1 with the failures listed, else prints a summary.

Set aside, and counted in the summary:
- answers without Request-Id: not the application's but the front end's
  (lighttpd's own 400, 411, 431, 501... to malformed HTTP), and connections
  closed without an answer (status 0);
- paths outside /api/v1 other than /healthz: the tests' probes of other
  paths, answered 404 with the error envelope (checked against Error);
- OPTIONS: the CORS preflight, 204 without a body on any /api/v1 path;
- answers with a Content-Encoding (the front end's gzip of our JSON, which
  the test client does not undo): their status is still checked.
Answers on a path no template matches must be 404 with the Error envelope;
answers on a known path with a method it does not document must be 405 with
the Error envelope (docs/api.md, Errors).
"""
import collections
import json
import re
import sys

import jsonschema

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MASKED = re.compile(r"(cal_(?:hub|biz|pub|ses)_)\.{38}")
MASKED_SECRET = re.compile(r"(whsec_)\.{32}")


def templates(doc):
    """[(regex, template)] of the document's paths; a {name} is one segment."""
    out = []
    for t in doc["paths"]:
        parts = re.split(r"(\{[^/}]+\})", t)
        rx = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        out.append((re.compile("^" + rx + "$"), t))
    # literal segments first: /bookings/hold/{id} before /bookings/{id}/...
    out.sort(key=lambda x: x[1].count("{"))
    return Templates(out, doc)


class Templates(list):
    def __init__(self, items, doc):
        super().__init__(items)
        self.doc = doc


def find_path(tpls, path, method=None):
    """The template of path; of those that match, one with the method, as
    the router finds it (GET /api/v1/bookings/hold is GET /bookings/{id})."""
    if len(path) > 1:
        path = path.rstrip("/")   # a trailing slash is tolerated
    found = [t for rx, t in tpls if rx.match(path)]
    for t in found:
        if method in tpls.doc["paths"][t]:
            return t
    return found[0] if found else None


def unmask(body):
    """The body with masked tokens made well-formed again (for their patterns)."""
    s = json.dumps(body)
    s = MASKED.sub(lambda m: m.group(1) + "0" * 38, s)
    return json.loads(MASKED_SECRET.sub(lambda m: m.group(1) + "0" * 32, s))


def validator_for(doc, pointer, cache):
    if pointer not in cache:
        schema = dict(doc)   # refs resolve in the whole document
        schema["$ref"] = pointer
        cls = jsonschema.Draft202012Validator
        cache[pointer] = cls(schema, format_checker=None)
    return cache[pointer]


def escape(s):
    return s.replace("~", "~0").replace("/", "~1")


def check(doc, tpls, a, cache):
    """None when the answer is right, else what is wrong."""
    method = a["method"].lower()
    status = str(a["status"])
    tpl = find_path(tpls, a["path"], "get" if method == "head" else method)
    if tpl is None:
        if a["status"] != 404:
            return "no operation for this path, and not 404"
        if method == "head":
            return None
        pointer = "#/components/schemas/Error"
    else:
        m = "get" if method == "head" else method
        op = doc["paths"][tpl].get(m)
        if op is None:
            if a["status"] != 405:
                return "%s is not an operation of %s, and not 405" % (m.upper(), tpl)
            if method == "head":
                return None
            pointer = "#/components/schemas/Error"
        else:
            if status not in op["responses"] and "default" not in op["responses"]:
                return "status %s is not documented for %s %s" % (status, m.upper(), tpl)
            key = status if status in op["responses"] else "default"
            resp = op["responses"][key]
            rptr = "#/paths/%s/%s/responses/%s" % (escape(tpl), m, key)
            if "$ref" in resp:
                rptr = resp["$ref"]
                resp = doc["components"]["responses"][rptr.rsplit("/", 1)[1]]
            if "content" not in resp:
                if a["body"] is not None:
                    return "status %s documents no body, but one came" % status
                return None
            if method == "head" or a.get("content_encoding"):
                return None
            if a["body"] is None:
                return "status %s documents a JSON body, but none came (%s)" % (
                    status, a["content_type"])
            pointer = rptr + "/content/application~1json/schema"
    if a["body"] is None:
        return "no JSON body (%s)" % a["content_type"]
    v = validator_for(doc, pointer, cache)
    errs = sorted(v.iter_errors(unmask(a["body"])), key=lambda e: list(e.absolute_path))
    if errs:
        e = errs[0]
        return "body does not validate at /%s: %s" % (
            "/".join(str(p) for p in e.absolute_path), e.message[:300])
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: validate.py OPENAPI_JSON RESPONSES_JSONL")
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    jsonschema.Draft202012Validator.check_schema(
        {"$defs": doc["components"]["schemas"]})
    tpls = templates(doc)
    cache = {}
    counts = collections.Counter()
    failures = collections.OrderedDict()
    with open(sys.argv[2], "rb") as f:
        for n, raw in enumerate(f, 1):
            a = json.loads(raw.decode("utf-8", "replace"))
            if a["status"] == 0 or a.get("request_id") is None:
                counts["front end or no answer (set aside)"] += 1
                continue
            if a["method"] == "OPTIONS":
                counts["OPTIONS preflight (set aside)"] += 1
                continue
            p = a["path"]
            if not (p == "/api/v1" or p.startswith("/api/v1/") or p.rstrip("/") == "/healthz"):
                if a["status"] != 404 or a["body"] is None:
                    failures.setdefault("%s outside /api/v1 answered %s" % (p[:80], a["status"]), n)
                counts["outside /api/v1 (404 envelope only)"] += 1
                continue
            why = check(doc, tpls, a, cache)
            if why is None:
                counts["validated"] += 1
                counts["validated %s" % a["status"]] += 1
            else:
                key = "%s %s -> %s: %s" % (a["method"], find_path(tpls, p) or p[:80], a["status"], why)
                if key not in failures:
                    failures[key] = n
                counts["failed"] += 1
    for k in sorted(counts):
        print("%8d %s" % (counts[k], k))
    if failures:
        print("\n%d distinct failures (line of the first):" % len(failures))
        for k, n in failures.items():
            print("  line %d: %s" % (n, k))
        sys.exit(1)
    if counts["validated"] == 0:
        sys.exit("no answer validated: was CALENDENCE_RESPONSE_LOG set?")
    print("openapi: %d answers validated against %s" % (counts["validated"], sys.argv[1]))


if __name__ == "__main__":
    main()
