#!/usr/bin/env python3
"""reference.py: docs/reference.md, the endpoint reference, written from
docs/openapi.json (one section per operation: keys, parameters, body,
answers, in the document's order).

    python3 tests/openapi/reference.py docs/openapi.json > docs/reference.md
    python3 tests/openapi/reference.py --check docs/openapi.json docs/reference.md

--check (make check) fails when the file is not what the document makes, so
the reference cannot drift from the document, which the tests hold to the
router and to every answer the suites receive.
"""
import json
import sys

METHODS = ("get", "post", "put", "patch", "delete")


def resolve(doc, obj):
    """obj with a "$ref" to #/components/... followed."""
    while isinstance(obj, dict) and "$ref" in obj:
        node = doc
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def cell(text):
    """text for a table cell: one line, pipes escaped."""
    return " ".join(str(text or "").split()).replace("|", "\\|")


def type_of(doc, schema):
    """A short name for a schema: its component, type, or enum."""
    if "$ref" in schema:
        return "`" + schema["$ref"].rsplit("/", 1)[1] + "`"
    s = schema
    if "enum" in s:
        return " \\| ".join("`%s`" % json.dumps(v) for v in s["enum"])
    t = s.get("type", "")
    if isinstance(t, list):
        t = " or ".join(t)
    if t == "array" and "items" in s:
        return "array of " + type_of(doc, s["items"])
    if "oneOf" in s or "anyOf" in s:
        return " or ".join(type_of(doc, x) for x in s.get("oneOf", s.get("anyOf")))
    return t or "any"


def body_lines(doc, media):
    schema = media.get("schema", {})
    name = type_of(doc, schema)
    schema = resolve(doc, schema)
    out = ["Body (`application/json`): %s" % name, ""]
    props = schema.get("properties")
    if props:
        req = set(schema.get("required", []))
        out += ["| member | type | required | description |", "| --- | --- | --- | --- |"]
        for k, v in props.items():
            out.append("| `%s` | %s | %s | %s |" % (k, cell(type_of(doc, v)),
                       "yes" if k in req else "no", cell(resolve(doc, v).get("description"))))
        out.append("")
    return out


def operation(doc, path, method, op):
    out = ["### %s %s" % (method.upper(), path), ""]
    if op.get("summary"):
        out += [op["summary"].rstrip(".") + ".", ""]
    if op.get("description"):
        out += [op["description"].strip(), ""]
    params = [resolve(doc, p) for p in op.get("parameters", [])]
    if params:
        out += ["| parameter | in | required | description |", "| --- | --- | --- | --- |"]
        for p in params:
            out.append("| `%s` | %s | %s | %s |" % (p["name"], p["in"],
                       "yes" if p.get("required") else "no", cell(p.get("description"))))
        out.append("")
    rb = op.get("requestBody")
    if rb:
        rb = resolve(doc, rb)
        for mt, media in rb.get("content", {}).items():
            out += body_lines(doc, media)
    out += ["| status | answer |", "| --- | --- |"]
    for status, resp in op.get("responses", {}).items():
        r = resolve(doc, resp)
        schema = ""
        for media in r.get("content", {}).values():
            if "schema" in media:
                schema = " (" + type_of(doc, media["schema"]) + ")"
        out.append("| %s | %s |" % (status, cell(str(r.get("description") or "") + schema)))
    out.append("")
    return out


def render(doc):
    info = doc["info"]
    out = ["# Endpoint reference", "",
           "<!-- written by tests/openapi/reference.py from docs/openapi.json; "
           "edit the document, not this file -->", "",
           "%s %s, every operation of [openapi.json](openapi.json) (served at "
           "`GET /api/v1/openapi.json`). The conventions, errors, rate limits "
           "and choices are in [api.md](api.md)." % (info["title"], info["version"]), ""]
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                out += operation(doc, path, method, item[method])
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv):
    if len(argv) == 4 and argv[1] == "--check":
        with open(argv[2]) as f:
            want = render(json.load(f))
        with open(argv[3]) as f:
            got = f.read()
        if got != want:
            print("%s is not what %s makes: run python3 tests/openapi/reference.py %s > %s"
                  % (argv[3], argv[2], argv[2], argv[3]))
            return 1
        print("%s matches %s (%d lines)" % (argv[3], argv[2], want.count("\n")))
        return 0
    if len(argv) == 2:
        with open(argv[1]) as f:
            sys.stdout.write(render(json.load(f)))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
