/* booking.c: calendence-admin: services, locations, staff, hours, resources. */

#include <stdio.h>

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
	return adm_print_value(db, a, ADM_CREATE_LOCATION, PARAMS(a->pos[0],
	    a->pos[1], a->opt[OPT_ADDRESS], a->opt[OPT_TIMEZONE],
	    a->opt[OPT_HOURS]));
}

/* set-location-hours LOCATION_ID HOURS: replaces the weekly hours. */
int
adm_cmd_set_location_hours(PGconn *db, const struct adm_args *a)
{
	return done(db, a, ADM_SET_LOCATION_HOURS, PARAMS(a->pos[0],
	    a->pos[1]), "location", a->pos[0], "hours set");
}

/*
 * create-staff BUSINESS_ID NAME LOCATION_ID[,...] [--skills S,...]
 * [--hours HOURS]: prints the new staff member's id.
 */
int
adm_cmd_create_staff(PGconn *db, const struct adm_args *a)
{
	return adm_print_value(db, a, ADM_CREATE_STAFF, PARAMS(a->pos[0],
	    a->pos[1], a->pos[2], a->opt[OPT_SKILLS], a->opt[OPT_HOURS]));
}

/* set-staff-hours STAFF_ID HOURS [--location LOCATION_ID]. */
int
adm_cmd_set_staff_hours(PGconn *db, const struct adm_args *a)
{
	return done(db, a, ADM_SET_STAFF_HOURS, PARAMS(a->pos[0], a->pos[1],
	    a->opt[OPT_LOCATION]), "staff", a->pos[0], "hours set");
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
