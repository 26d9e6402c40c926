/*
 * usage.c: the 429s a worker answers from memory (SPEC 6: a refused
 * subject's further requests, until its window resets), counted here and
 * reported to PostgreSQL at most once a USAGE_INTERVAL, so that usage
 * (calendence.usage(), calendence-admin usage) counts every 429 sent, not
 * only those the database decided. A refusal from memory thus still costs
 * no round trip of its own: a worker refused 10,000 times a second sends
 * one statement a second.
 *
 * A report whose outcome is unknown (the connection broke after it was
 * sent, or no answer within db_timeout) is not sent again: its counts may
 * have been added, and adding them twice would be a lie too. They are
 * dropped and the log says how many; so is a report the database refused.
 * A report that could not be sent (no connection) is kept for next time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "buf.h"
#include "worker.h"

/* Notes one 429 answered from memory for st's refusal (rl_refuse() named it). */
void
usage_refused(struct worker *w, const struct rl_state *st)
{
	struct usage	*u = &w->usage;
	long long	 hour = rl_window_start(st->now, 3600);
	int		 i;

	if (st->subject[0] == '\0')
		return;
	for (i = 0; i < u->n; i++)
		if (u->c[i].hour == hour && strcmp(u->c[i].subject, st->subject) == 0) {
			u->c[i].n++;
			return;
		}
	if (u->n == USAGE_PENDING)
		usage_report(w, 1);	/* now, to make room */
	if (u->n == USAGE_PENDING) {
		u->lost++;
		return;
	}
	memcpy(u->c[u->n].subject, st->subject, sizeof(st->subject));
	u->c[u->n].hour = hour;
	u->c[u->n].n = 1;
	u->n++;
}

/*
 * How long the worker may wait for work before reporting: -1 (for ever)
 * when there is nothing to report, else the milliseconds until it is due.
 */
int
usage_wait_ms(const struct worker *w, time_t now)
{
	if (w->usage.n == 0 && w->usage.lost == 0)
		return -1;
	return w->usage.next > now ? (int)(w->usage.next - now) * 1000 : 0;
}

/* The three arrays of usage_refused(), as text literals of PostgreSQL. */
static void
arrays(const struct usage *u, struct buf *s, struct buf *h, struct buf *n)
{
	int	 i;

	buf_puts(s, "{");
	buf_puts(h, "{");
	buf_puts(n, "{");
	for (i = 0; i < u->n; i++) {
		/* subjects hold hex digits, '.', ':', '/' and '-' only */
		buf_printf(s, "%s\"%s\"", i ? "," : "", u->c[i].subject);
		buf_printf(h, "%s%lld", i ? "," : "", u->c[i].hour);
		buf_printf(n, "%s%d", i ? "," : "", u->c[i].n);
	}
	buf_puts(s, "}");
	buf_puts(h, "}");
	buf_puts(n, "}");
}

/*
 * Keeps only the counts whose 1-based indexes the text array 'skipped'
 * lists (windows another transaction held: reported next time).
 */
static void
keep_skipped(struct usage *u, const char *skipped)
{
	struct usage_count kept[USAGE_PENDING];
	const char	*p = skipped;
	char		*end;
	long		 i;
	int		 k = 0;

	while (*p != '\0') {
		if (*p < '0' || *p > '9') {
			p++;
			continue;
		}
		i = strtol(p, &end, 10);
		p = end;
		if (i >= 1 && i <= u->n && k < USAGE_PENDING)
			kept[k++] = u->c[i - 1];
	}
	memcpy(u->c, kept, (size_t)k * sizeof(kept[0]));
	u->n = k;
}

/*
 * Reports the pending counts when due (now, when force), in one statement
 * bounded by db_timeout.
 */
void
usage_report(struct worker *w, int force)
{
	struct usage	*u = &w->usage;
	struct buf	 s, h, n;
	const char	*params[3];
	PGresult	*res;
	enum db_status	 st;
	time_t		 now = time(NULL);
	int		 sent = 0, i;

	if (u->lost > 0) {
		log_msg(w->conf.log_level, LOG_LEVEL_WARN, "usage: %lld refusals "
		    "answered from memory were not recorded", u->lost);
		u->lost = 0;
	}
	if (u->n == 0 || (!force && now < u->next))
		return;
	u->next = now + USAGE_INTERVAL;
	buf_init(&s), buf_init(&h), buf_init(&n);
	arrays(u, &s, &h, &n);
	params[0] = buf_str(&s);
	params[1] = buf_str(&h);
	params[2] = buf_str(&n);
	db_deadline(&w->db, 0);
	st = db_exec(&w->db, STMT_USAGE_REFUSED, params, &res);
	buf_cleanup(&s), buf_cleanup(&h), buf_cleanup(&n);
	if (st == DB_OK) {
		keep_skipped(u, PQgetvalue(res, 0, 0));
		PQclear(res);
		return;
	}
	if (st == DB_UNAVAILABLE && !w->db.outcome_unknown)
		return;		/* never reached the server: next time */
	for (i = 0; i < u->n; i++)
		sent += u->c[i].n;
	log_msg(w->conf.log_level, LOG_LEVEL_WARN, "usage: %d refusals answered from "
	    "memory were not recorded (%s)", sent, st == DB_ERROR ?
	    "the statement failed" : "outcome unknown: not sent again");
	u->n = 0;
}
