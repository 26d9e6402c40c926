/* print.c: calendence-admin's answers: aligned text for people, or --json. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>
#include <libpq-fe.h>

#include "admin.h"

/* PostgreSQL's type oids (pg_type.dat) that JSON shows as other than strings */
#define OID_BOOL	16
#define OID_INT8	20
#define OID_INT2	21
#define OID_INT4	23
#define OID_JSON	114
#define OID_JSONB	3802

#define NULL_TEXT	"-"	/* a NULL in the text form */

/* Writes s with control characters, which could upset a terminal, as '?'. */
static void
put_field(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* The characters of UTF-8 text s (its bytes but continuation bytes). */
static int
text_width(const char *s)
{
	int	 n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* What the text form shows for a field: its value, or NULL_TEXT. */
static const char *
field_text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL_TEXT : PQgetvalue(res, row, col);
}

/* Writes s, then spaces to 'width' characters when 'pad'. */
static void
put_padded(const char *s, int width, int pad)
{
	put_field(s);
	if (pad)
		printf("%*s", width - text_width(s), "");
}

/* Aligned columns under a header of their names, two spaces apart. */
static void
print_table(const PGresult *res)
{
	int	 i, j, ncols = PQnfields(res), *w;

	if ((w = calloc(ncols > 0 ? ncols : 1, sizeof(*w))) == NULL) {
		adm_errmsg("out of memory");
		return;
	}
	for (j = 0; j < ncols; j++) {
		w[j] = text_width(PQfname(res, j));
		for (i = 0; i < PQntuples(res); i++)
			if (text_width(field_text(res, i, j)) > w[j])
				w[j] = text_width(field_text(res, i, j));
	}
	for (i = -1; i < PQntuples(res); i++) {
		for (j = 0; j < ncols; j++) {
			if (j > 0)
				fputs("  ", stdout);
			put_padded(i < 0 ? PQfname(res, j) : field_text(res, i, j),
			    w[j], j < ncols - 1);
		}
		putchar('\n');
	}
	free(w);
}

/* Row 0 as "name  value" lines, the names padded to the longest. */
static void
print_record(const PGresult *res)
{
	int	 j, w = 0, ncols = PQnfields(res);

	for (j = 0; j < ncols; j++)
		if (text_width(PQfname(res, j)) > w)
			w = text_width(PQfname(res, j));
	for (j = 0; j < ncols; j++) {
		put_padded(PQfname(res, j), w, 1);
		fputs("  ", stdout);
		put_field(field_text(res, 0, j));
		putchar('\n');
	}
}

/* One field as JSON: null, a boolean, a number, or a string. NULL: no memory. */
static json_object *
field_json(const PGresult *res, int row, int col, bool *oom)
{
	const char	*v = PQgetvalue(res, row, col);
	json_object	*o;

	if (PQgetisnull(res, row, col))
		return NULL;
	switch (PQftype(res, col)) {
	case OID_BOOL:
		o = json_object_new_boolean(strcmp(v, "t") == 0);
		break;
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		o = json_object_new_int64(strtoll(v, NULL, 10));
		break;
	case OID_JSON:
	case OID_JSONB:
		o = json_tokener_parse(v);
		break;
	default:
		o = json_object_new_string(v);
	}
	*oom = o == NULL;
	return o;
}

/* A row as an object keyed by column name; NULL when memory ran out. */
static json_object *
row_json(const PGresult *res, int row)
{
	json_object	*obj, *v;
	bool		 oom = false;
	int		 j;

	if ((obj = json_object_new_object()) == NULL)
		return NULL;
	for (j = 0; j < PQnfields(res); j++) {
		v = field_json(res, row, j, &oom);
		if (oom || json_object_object_add(obj, PQfname(res, j), v) != 0) {
			json_object_put(v);
			json_object_put(obj);
			return NULL;
		}
	}
	return obj;
}

/* 'res' in 'shape' as JSON; NULL when memory ran out. */
static json_object *
result_json(const PGresult *res, enum adm_shape shape)
{
	json_object	*list, *row;
	int		 i;

	if (shape != ADM_TABLE)
		return PQntuples(res) > 0 ? row_json(res, 0) :
		    json_object_new_object();
	if ((list = json_object_new_array()) == NULL)
		return NULL;
	for (i = 0; i < PQntuples(res); i++) {
		if ((row = row_json(res, i)) == NULL ||
		    json_object_array_add(list, row) != 0) {
			json_object_put(row);
			json_object_put(list);
			return NULL;
		}
	}
	return list;
}

/* Writes 'obj' on stdout as one JSON text and a newline; takes it. 0 or -1. */
static int
json_put(json_object *obj)
{
	const char	*s;

	if (obj == NULL || (s = json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL) {
		json_object_put(obj);
		adm_errmsg("out of memory");
		return -1;
	}
	puts(s);
	json_object_put(obj);
	return 0;
}

/*
 * Prints 'res' in 'shape' (admin.h), as JSON with --json. A result without
 * rows prints nothing in text, {} or [] in JSON. 0, or -1 once said.
 */
int
adm_print(const struct adm_args *a, const PGresult *res, enum adm_shape shape)
{
	if (a->json)
		return json_put(result_json(res, shape));
	if (shape == ADM_TABLE)
		print_table(res);
	else if (PQntuples(res) > 0 && shape == ADM_RECORD)
		print_record(res);
	else if (PQntuples(res) > 0) {
		put_field(field_text(res, 0, 0));
		putchar('\n');
	}
	return 0;
}

/*
 * What a command that returns nothing did: 'sentence' in text; with
 * --json, an object of the name, value pairs of 'kv' (NULL-terminated;
 * a NULL value is null). 0, or -1 once said.
 */
int
adm_print_done(const struct adm_args *a, const char *sentence,
    const char *const *kv)
{
	json_object	*obj, *v;
	int		 i;

	if (!a->json) {
		put_field(sentence);
		putchar('\n');
		return 0;
	}
	if ((obj = json_object_new_object()) == NULL)
		return json_put(NULL);
	for (i = 0; kv[i] != NULL; i += 2) {
		v = kv[i + 1] != NULL ? json_object_new_string(kv[i + 1]) : NULL;
		if ((kv[i + 1] != NULL && v == NULL) ||
		    json_object_object_add(obj, kv[i], v) != 0) {
			json_object_put(v);
			json_object_put(obj);
			return json_put(NULL);
		}
	}
	return json_put(obj);
}
