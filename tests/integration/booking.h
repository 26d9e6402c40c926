/* booking.h: what the booking tests share: businesses to book at, the calls of 004_booking.sql, slot lists. */

#ifndef CALENDENCE_TESTS_INTEGRATION_BOOKING_H
#define CALENDENCE_TESTS_INTEGRATION_BOOKING_H

#include "fixture.h"

/*
 * Every function here runs on fx_db() and fails the current test when the
 * database refuses; returned strings are malloc'd for the caller.
 */

/* Weekly hours (calendence.parse_hours() JSON): every day, all day. */
#define BK_ALL_DAYS \
	"{\"monday\": [\"00:00-24:00\"], \"tuesday\": [\"00:00-24:00\"], " \
	"\"wednesday\": [\"00:00-24:00\"], \"thursday\": [\"00:00-24:00\"], " \
	"\"friday\": [\"00:00-24:00\"], \"saturday\": [\"00:00-24:00\"], " \
	"\"sunday\": [\"00:00-24:00\"]}"

/* A business of a new 'pro' hub in zone 'tz', slot grid 'slot_minutes'; its id. */
char	*bk_business(const char *tz, int slot_minutes);

/* A location of 'biz' ('tz' NULL: the business's zone) open 'hours'; its id. */
char	*bk_location(const char *biz, const char *name, const char *tz, const char *hours);

/*
 * A staff member of 'biz' working at 'locations' (one id, or an array literal
 * such as "{id1,id2}"), with 'skills' (an array literal) and 'hours' at each;
 * its id.
 */
char	*bk_staff(const char *biz, const char *name, const char *locations,
	    const char *skills, const char *hours);

/*
 * An active service of 'biz' taking 'minutes', with these buffers, needing
 * 'skills' (an array literal) and a resource of 'resource_type' (NULL: none),
 * no deposit and no custom fields; its id.
 */
char	*bk_service(const char *biz, int minutes, int before, int after,
	    const char *skills, const char *resource_type);

/* YYYY-MM-DD: the first Monday at least three weeks after today (UTC), plus 'plus' days. */
char	*bk_monday(int plus);

/* YYYY-MM-DD: 'day' plus 'n' days. */
char	*bk_date_add(const char *day, int n);

/* "<day>T<hhmm>:00Z" in buf; returns buf. */
const char	*bk_at(char buf[32], const char *day, const char *hhmm);

/* A new uuid, standing for an API key's id. */
char	*bk_uuid(void);

/*
 * A session of 'biz' by publishable key id 'pk' (root NULL: the first of its
 * chain) made by calendence.create_session(); its id.
 */
char	*bk_session(const char *biz, const char *pk, const char *root);

/* What an API function of 004_booking.sql answered. */
struct bk_res {
	char	*status;
	char	*message;	/* NULL for 'ok' */
	char	*body;		/* NULL unless 'ok' (or a replayed answer) */
	int	 replayed;	/* holds and bookings only */
};

void	 bk_res_free(struct bk_res *);

/* calendence.availability(); NULL arguments are sent as SQL NULL. */
void	 bk_availability(struct bk_res *, const char *biz, const char *service,
	    const char *from, const char *to, const char *staff, const char *location);

/* calendence.hold(); NULL arguments are sent as SQL NULL. */
void	 bk_hold(struct bk_res *, const char *biz, const char *service,
	    const char *location, const char *starts_at, const char *staff,
	    const char *root_session, const char *key_id, const char *idem_key);

/* calendence.book(); NULL arguments are sent as SQL NULL. */
void	 bk_book(struct bk_res *, const char *biz, const char *hold_id,
	    const char *client, const char *fields, const char *notes,
	    const char *root_session, const char *key_id, const char *idem_key);

/* A hold that must succeed; returns its hold_id. */
char	*bk_hold_ok(const char *biz, const char *service, const char *location,
	    const char *starts_at, const char *staff, const char *root_session,
	    const char *key_id);

/* A booking of that hold for a fixed valid client that must succeed; returns its id. */
char	*bk_book_ok(const char *biz, const char *hold_id, const char *root_session,
	    const char *key_id);

/* A valid client object (JSON). */
#define BK_CLIENT \
	"{\"first_name\": \"Ada\", \"last_name\": \"Lovelace\", " \
	"\"email\": \"ada@example.com\", \"phone\": \"+13125550100\"}"

/*
 * The string at 'path' (member names joined by '.', e.g. "staff.name") of the
 * JSON object 'json'; NULL when absent or JSON null. Numbers and booleans
 * come as their JSON text.
 */
char	*bk_json(const char *json, const char *path);

/* How bk_slots() writes a slot. */
#define BK_UTC		0x1	/* "09:00=14:00Z": local start, then UTC start */
#define BK_LOC		0x2	/* "... Ann@Main": the location after the staff member */
#define BK_NOSTAFF	0x4	/* no staff member at all */

/*
 * The slots of 'day' in an availability answer, in order, as
 * "HH:MM Ann, HH:MM Ben" (local start time, staff name), "" for an empty
 * day; the test fails when the day is not a key of data.
 */
char	*bk_slots(const char *body, const char *day, int flags);

/* Expects bk_slots(body, day, flags) to be 'want'. */
void	 bk_expect_slots(const char *body, const char *day, int flags, const char *want);

/* The body of an availability call that must answer 'ok'. */
char	*bk_avail_ok(const char *biz, const char *service, const char *from,
	    const char *to, const char *staff, const char *location);

/* The number of keys of data in an availability answer. */
int	 bk_days(const char *body);

/* One racer's answer in bk_race(); below PIPE_BUF, so written whole. */
#define BK_RACE_REC	160

/*
 * The race: 'n' processes, each on its own connection, wait at a barrier,
 * then run 'sql' (np text parameters 'p'; one text column) at once. out[i]
 * is what process i got: the value, or "error <SQLSTATE>".
 */
void	 bk_race(const char *sql, int np, const char *const *p, int n,
	    char out[][BK_RACE_REC]);

/*
 * A business to book at, in UTC on a 60-minute grid: one location and one
 * staff member (Ann) open every day, a 60-minute service, a key id to call
 * with, and a Monday ahead (bk_monday(0)). bk_shop_free() frees it all.
 */
struct bk_shop {
	char	*biz;
	char	*loc;
	char	*svc;
	char	*ann;
	char	*key;		/* a key id: the caller of every call but a session's */
	char	*day;
};

void	 bk_shop_new(struct bk_shop *);
void	 bk_shop_free(struct bk_shop *);

#endif
