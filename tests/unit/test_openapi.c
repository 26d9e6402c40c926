/* test_openapi.c: docs/openapi.json as built into the worker against the route table. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "openapi.h"
#include "router.h"

/* Paths of the document that are not rows of routes[] (app.c answers them). */
static const char *const outside[] = { "/api/v1/openapi.json", "/healthz" };

/* The built-in document, parsed (the caller puts it). */
static json_object *
document(void)
{
	json_tokener	*tok = json_tokener_new();
	json_object	*doc;

	/* openapi_doc has no NUL: parse exactly its bytes */
	doc = json_tokener_parse_ex(tok, (const char *)openapi_doc, (int)openapi_doc_len);
	cr_assert_not_null(doc, "the built-in document does not parse");
	cr_assert_eq(json_tokener_get_error(tok), json_tokener_success);
	json_tokener_free(tok);
	return doc;
}

/* Its "paths" object (the caller puts it). */
static json_object *
paths(void)
{
	json_object	*doc = document(), *p;

	cr_assert(json_object_object_get_ex(doc, "paths", &p));
	json_object_get(p);
	json_object_put(doc);
	return p;
}

/*
 * True when a route's pattern and a document path are the same path: each
 * "{}" of the pattern stands for one "{name}" of the document at its place,
 * so "/api/v1/webhooks/{}/deliveries/{}/retry" is
 * "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry".
 */
static int
same_path(const char *pattern, const char *doc_path)
{
	while (*pattern != '\0' && *doc_path != '\0') {
		if (strncmp(pattern, "{}", 2) == 0) {
			if (*doc_path != '{')
				return 0;
			doc_path += strcspn(doc_path, "}");
			if (*doc_path != '}' || doc_path[-1] == '{')
				return 0;
			doc_path++;
			pattern += 2;
		} else if (*pattern++ != *doc_path++)
			return 0;
	}
	return *pattern == '\0' && *doc_path == '\0';
}

static void
lower(const char *s, char *out, size_t len)
{
	size_t	 i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	out[i] = '\0';
}

/* The route of routes[] with this document path and (lowercase) method, or -1. */
static int
route_of(const char *doc_path, const char *method)
{
	char	 m[16];
	int	 i;

	for (i = 0; i < ROUTE__MAX; i++) {
		lower(routes[i].method, m, sizeof(m));
		if (strcmp(m, method) == 0 && same_path(routes[i].pattern, doc_path))
			return i;
	}
	return -1;
}

Test(openapi, every_route_is_documented)
{
	json_object	*p = paths(), *op;
	char		 m[16];
	int		 i, found;

	for (i = 0; i < ROUTE__MAX; i++) {
		lower(routes[i].method, m, sizeof(m));
		found = 0;
		json_object_object_foreach(p, path, it) {
			if (same_path(routes[i].pattern, path) &&
			    json_object_object_get_ex(it, m, &op))
				found = 1;
		}
		cr_expect(found, "%s %s is not in docs/openapi.json", routes[i].method,
		    routes[i].pattern);
	}
	json_object_put(p);
}

Test(openapi, nothing_but_the_routes)
{
	static const char *const methods[] = { "get", "put", "post", "delete",
	    "options", "head", "patch", "trace" };
	json_object	*p = paths(), *op;
	size_t		 i, j;
	int		 extra;

	json_object_object_foreach(p, path, item) {
		extra = 0;
		for (j = 0; j < sizeof(outside) / sizeof(outside[0]); j++)
			if (strcmp(path, outside[j]) == 0)
				extra = 1;
		for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
			if (!json_object_object_get_ex(item, methods[i], &op))
				continue;
			if (extra)
				cr_expect_str_eq(methods[i], "get", "%s takes only GET", path);
			else
				cr_expect(route_of(path, methods[i]) != -1,
				    "%s %s of docs/openapi.json is no route", methods[i], path);
		}
	}
	json_object_put(p);
}

/* The path parameters of each operation are those of its template, in order. */
Test(openapi, path_parameters_are_declared)
{
	json_object	*p = paths(), *params, *prm, *v, *in;
	const char	*s;
	size_t		 n, k, i;
	char		 want[64];

	json_object_object_foreach(p, path, item) {
		json_object_object_foreach(item, method, op) {
			n = k = 0;
			for (s = strchr(path, '{'); s != NULL; s = strchr(s + 1, '{')) {
				k++;
				snprintf(want, sizeof(want), "%.*s", (int)strcspn(s + 1, "}"), s + 1);
				if (!json_object_object_get_ex(op, "parameters", &params))
					continue;
				for (i = 0; i < json_object_array_length(params); i++) {
					prm = json_object_array_get_idx(params, i);
					/* a $ref is a header or query parameter */
					if (json_object_object_get_ex(prm, "name", &v) &&
					    json_object_object_get_ex(prm, "in", &in) &&
					    strcmp(json_object_get_string(in), "path") == 0 &&
					    strcmp(json_object_get_string(v), want) == 0)
						n++;
				}
			}
			cr_expect_eq(n, k, "%s %s declares %zu of its %zu path parameters",
			    method, path, n, k);
		}
	}
	json_object_put(p);
}

/* A parameter object with "$ref": "#/components/parameters/X" followed. */
static json_object *
param_of(json_object *doc, json_object *p)
{
	json_object	*ref, *comp, *params, *out;
	const char	*name;

	if (!json_object_object_get_ex(p, "$ref", &ref))
		return p;
	name = strrchr(json_object_get_string(ref), '/');
	cr_assert(name != NULL && json_object_object_get_ex(doc, "components", &comp) &&
	    json_object_object_get_ex(comp, "parameters", &params) &&
	    json_object_object_get_ex(params, name + 1, &out), "%s",
	    json_object_get_string(ref));
	return out;
}

/* Whether the route's query column (router.c) names 'name'. */
static int
route_takes(const struct route *rt, const char *name)
{
	for (size_t i = 0; rt->query != NULL && rt->query[i] != NULL; i++)
		if (strcmp(rt->query[i], name) == 0)
			return 1;
	return 0;
}

/*
 * Each operation's query parameters are exactly those its route takes: the
 * router answers 422 to any other, so the document may name no more and no
 * fewer.
 */
Test(openapi, query_parameters_are_the_routes)
{
	json_object	*doc = document(), *p, *op, *list, *in, *nm;
	char		 m[16];
	int		 i, documented;
	size_t		 j, k;

	cr_assert(json_object_object_get_ex(doc, "paths", &p));
	for (i = 0; i < ROUTE__MAX; i++) {
		const struct route *rt = &routes[i];

		lower(rt->method, m, sizeof(m));
		documented = 0;
		json_object_object_foreach(p, path, item) {
			if (!same_path(rt->pattern, path) ||
			    !json_object_object_get_ex(item, m, &op))
				continue;
			if (!json_object_object_get_ex(op, "parameters", &list))
				list = NULL;
			for (j = 0; list != NULL && j < json_object_array_length(list); j++) {
				json_object *q = param_of(doc, json_object_array_get_idx(list, j));

				if (!json_object_object_get_ex(q, "in", &in) ||
				    strcmp(json_object_get_string(in), "query") != 0)
					continue;
				cr_assert(json_object_object_get_ex(q, "name", &nm));
				documented++;
				cr_expect(route_takes(rt, json_object_get_string(nm)),
				    "%s %s: the document names query parameter %s, the route "
				    "does not take it", rt->method, rt->pattern,
				    json_object_get_string(nm));
			}
		}
		for (k = 0; rt->query != NULL && rt->query[k] != NULL; k++)
			continue;
		cr_expect_eq((size_t)documented, k, "%s %s: %d query parameters documented, "
		    "the route takes %zu", rt->method, rt->pattern, documented, k);
	}
	json_object_put(doc);
}
