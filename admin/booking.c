/* booking.c: calendence-admin: services, locations, staff, hours, resources. */

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json.h>
#include <libpq-fe.h>

#include "admin.h"

#define SENTENCE_MAX	512	/* a sentence of adm_print_done */
#define VERB_MAX	64

/*
 * Runs 'st' for its effect, then says 'verb' of the 'noun' whose id is
 * 'id' ("location <id>: hours set"; --json: {noun: id, "done": verb}).
 * 0, or 1.
 */
static int
done(PGconn *db, const struct adm_args *a, enum adm_stmt st,
    const char *const *params, const char *noun, const char *id,
    const char *verb)
{
	char	 line[SENTENCE_MAX];

	if (adm_exec(db, st, params) == -1)
		return 1;
	snprintf(line, sizeof(line), "%s %s: %s", noun, id, verb);
	return adm_print_done(a, line, PARAMS(noun, id, "done", verb,
	    NULL)) == 0 ? 0 : 1;
}

static const char *const weekdays[7] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
	"sunday"
};

/* The weekday (0: Monday) that 's' ('len' bytes, 3 or more) begins, or -1. */
static int
weekday_find(const char *s, size_t len)
{
	int	 d;

	for (d = 0; d < 7 && len >= 3; d++)
		if (len <= strlen(weekdays[d]) &&
		    strncasecmp(s, weekdays[d], len) == 0)
			return d;
	return -1;
}

/*
 * Marks in 'days' the weekdays of 'spec': "mon", "mon-fri", "sat,sun",
 * "fri-mon" (a range may wrap). 0, or -1 when a word is no weekday.
 */
static int
days_parse(const char *spec, size_t len, bool days[7])
{
	const char	*end = spec + len, *item, *dash;
	size_t		 n;
	int		 from, to;

	for (item = spec; item < end; item += n + 1) {
		n = strcspn(item, ",");
		if (item + n > end)
			n = (size_t)(end - item);
		dash = memchr(item, '-', n);
		from = weekday_find(item, dash != NULL ? (size_t)(dash - item) : n);
		to = dash == NULL ? from :
		    weekday_find(dash + 1, (size_t)(item + n - dash - 1));
		if (from == -1 || to == -1)
			return -1;
		for (;; from = (from + 1) % 7) {
			days[from] = true;
			if (from == to)
				break;
		}
	}
	return 0;
}

/* Adds range 'r' ('len' bytes) to the list of every day in 'days'. */
static int
hours_add(json_object *obj, const bool days[7], const char *r, size_t len)
{
	json_object	*list, *v;
	int		 d;

	for (d = 0; d < 7; d++) {
		if (!days[d])
			continue;
		if (!json_object_object_get_ex(obj, weekdays[d], &list)) {
			if ((list = json_object_new_array()) == NULL ||
			    json_object_object_add(obj, weekdays[d], list) != 0) {
				json_object_put(list);
				return -1;
			}
		}
		if ((v = json_object_new_string_len(r, (int)len)) == NULL ||
		    json_object_array_add(list, v) != 0) {
			json_object_put(v);
			return -1;
		}
	}
	return 0;
}

/*
 * One part of the short form, "DAYS RANGE [RANGE...]", into 'obj'.
 * 0, or -1 when its days are not weekdays or it has no range.
 */
static int
hours_part(json_object *obj, const char *p, size_t len)
{
	const char	*end = p + len;
	bool		 days[7] = { false };
	size_t		 n;
	int		 ranges = 0;

	while (p < end && isspace((unsigned char)*p))
		p++;
	n = strcspn(p, " \t");
	if (p + n > end)
		n = (size_t)(end - p);
	if (n == 0 || days_parse(p, n, days) == -1)
		return -1;
	for (p += n; p < end; p += n) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		if ((n = strcspn(p, " \t")) == 0 || p >= end)
			break;
		if (p + n > end)
			n = (size_t)(end - p);
		if (hours_add(obj, days, p, n) == -1)
			return -1;
		ranges++;
	}
	return ranges > 0 ? 0 : -1;
}

/*
 * HOURS as the SQL functions take them: JSON (starting with '{') as it is,
 * or the short form "mon-fri 09:00-12:00 13:00-17:00; sat 09:00-13:00"
 * made into that JSON (the ranges are checked by parse_hours()). Returns
 * the text to send, which '*owner' keeps alive (json_object_put it), or
 * NULL once said.
 */
static const char *
hours_json(const struct adm_args *a, const char *text, json_object **owner)
{
	const char	*p, *s;
	size_t		 n;

	*owner = NULL;
	if (text == NULL || text[strspn(text, " \t\n")] == '{')
		return text;
	if ((*owner = json_object_new_object()) == NULL)
		goto oom;
	for (p = text; *p != '\0'; p += n + (p[n] != '\0')) {
		n = strcspn(p, ";");
		if (strspn(p, " \t\n") >= n)
			continue;	/* an empty part: "...; " */
		if (hours_part(*owner, p, n) == -1) {
			adm_errmsg("%s: hours are JSON, or such as \"mon-fri "
			    "09:00-12:00 13:00-17:00; sat 09:00-13:00\": \"%.*s\"",
			    a->cmd->name, (int)n, p);
			goto fail;
		}
	}
	if ((s = json_object_to_json_string_ext(*owner,
	    JSON_C_TO_STRING_PLAIN)) != NULL)
		return s;
 oom:
	adm_errmsg("out of memory");
 fail:
	json_object_put(*owner);
	*owner = NULL;
	return NULL;
}

/*
 * Runs 'st' with 'params', where params[i] is HOURS (hours_json) when
 * not NULL; prints its one value when 'print', else says 'noun' 'id' done.
 * 0, or 1.
 */
static int
with_hours(PGconn *db, const struct adm_args *a, enum adm_stmt st,
    const char **params, int i, const char *noun, const char *id)
{
	json_object	*owner = NULL;
	int		 rc;

	if (params[i] != NULL &&
	    (params[i] = hours_json(a, params[i], &owner)) == NULL)
		return 1;
	rc = noun == NULL ? adm_print_value(db, a, st, params) :
	    done(db, a, st, params, noun, id, "hours set");
	json_object_put(owner);
	return rc;
}

/*
 * create-service BUSINESS_ID NAME MINUTES[-MAX] RATE [--rate-type T]
 * [--deposit AMOUNT|PERCENT%] [--buffer-before M] [--buffer-after M]
 * [--description T] [--category T] [--skills S,...] [--resource-type T]:
 * prints the new service's id (create_service() checks every argument).
 */
int
adm_cmd_create_service(PGconn *db, const struct adm_args *a)
{
	return adm_print_value(db, a, ADM_CREATE_SERVICE, PARAMS(a->pos[0],
	    a->pos[1], a->pos[2], a->pos[3], a->opt[OPT_RATE_TYPE],
	    a->opt[OPT_DEPOSIT], a->opt[OPT_BUFFER_BEFORE],
	    a->opt[OPT_BUFFER_AFTER], a->opt[OPT_DESCRIPTION],
	    a->opt[OPT_CATEGORY], a->opt[OPT_SKILLS],
	    a->opt[OPT_RESOURCE_TYPE]));
}

/* set-service-needs SERVICE_ID [--skills S,...] [--resource-type T]. */
int
adm_cmd_set_service_needs(PGconn *db, const struct adm_args *a)
{
	return done(db, a, ADM_SET_SERVICE_NEEDS, PARAMS(a->pos[0],
	    a->opt[OPT_SKILLS], a->opt[OPT_RESOURCE_TYPE]), "service",
	    a->pos[0], "needs set");
}

/*
 * create-location BUSINESS_ID NAME [--address T] [--timezone Z]
 * [--hours HOURS]: prints the new location's id.
 */
int
adm_cmd_create_location(PGconn *db, const struct adm_args *a)
{
	const char	*p[] = { a->pos[0], a->pos[1], a->opt[OPT_ADDRESS],
			    a->opt[OPT_TIMEZONE], a->opt[OPT_HOURS] };

	return with_hours(db, a, ADM_CREATE_LOCATION, p, 4, NULL, NULL);
}

/* set-location-hours LOCATION_ID HOURS: replaces the weekly hours. */
int
adm_cmd_set_location_hours(PGconn *db, const struct adm_args *a)
{
	const char	*p[] = { a->pos[0], a->pos[1] };

	return with_hours(db, a, ADM_SET_LOCATION_HOURS, p, 1, "location",
	    a->pos[0]);
}

/*
 * create-staff BUSINESS_ID NAME LOCATION_ID[,...] [--skills S,...]
 * [--hours HOURS]: prints the new staff member's id.
 */
int
adm_cmd_create_staff(PGconn *db, const struct adm_args *a)
{
	const char	*p[] = { a->pos[0], a->pos[1], a->pos[2],
			    a->opt[OPT_SKILLS], a->opt[OPT_HOURS] };

	return with_hours(db, a, ADM_CREATE_STAFF, p, 4, NULL, NULL);
}

/* set-staff-hours STAFF_ID HOURS [--location LOCATION_ID]. */
int
adm_cmd_set_staff_hours(PGconn *db, const struct adm_args *a)
{
	const char	*p[] = { a->pos[0], a->pos[1], a->opt[OPT_LOCATION] };

	return with_hours(db, a, ADM_SET_STAFF_HOURS, p, 1, "staff", a->pos[0]);
}

/* block-staff-date STAFF_ID DATE [--reason T]: again: the reason replaced. */
int
adm_cmd_block_staff_date(PGconn *db, const struct adm_args *a)
{
	char	 verb[VERB_MAX];

	snprintf(verb, sizeof(verb), "%.40s blocked", a->pos[1]);
	return done(db, a, ADM_BLOCK_STAFF_DATE, PARAMS(a->pos[0], a->pos[1],
	    a->opt[OPT_REASON]), "staff", a->pos[0], verb);
}

/* create-resource LOCATION_ID TYPE NAME: prints the new resource's id. */
int
adm_cmd_create_resource(PGconn *db, const struct adm_args *a)
{
	return adm_print_value(db, a, ADM_CREATE_RESOURCE, PARAMS(a->pos[0],
	    a->pos[1], a->pos[2]));
}

/* block-resource RESOURCE_ID STARTS ENDS [--reason T]: prints the block's id. */
int
adm_cmd_block_resource(PGconn *db, const struct adm_args *a)
{
	return adm_print_value(db, a, ADM_BLOCK_RESOURCE, PARAMS(a->pos[0],
	    a->pos[1], a->pos[2], a->opt[OPT_REASON]));
}
