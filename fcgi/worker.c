/* worker.c: a worker's state across requests: set up from its settings, torn down. */
#include "auth.h"
#include "worker.h"

/*
 * Sets up a worker's state from its configuration (already in w->conf).
 * The refusal caches are not cleared: a worker is static (or calloc'ed),
 * so they are all zero, that is empty, already; writing 1.2 MB of zeros
 * would only make every worker hold those pages for nothing.
 */
void
worker_init(struct worker *w)
{
	db_init(&w->db, w->conf.database, w->conf.log_level,
	    (enum db_prepare)w->conf.prepared_statements, w->conf.db_timeout);
	cat_init(&w->catalogue, (size_t)w->conf.catalogue_cache * 1024);
	ans_init(&w->answers, (size_t)w->conf.availability_cache * 1024);
	/* (a pool's supervisor mapped it before the fork, for all: main.c) */
	if (w->uses == NULL)
		w->uses = key_uses_new();
	/* PgBouncer in transaction pooling (prepared_statements = off) has no LISTEN */
	if ((w->conf.catalogue_cache > 0 || w->conf.availability_cache > 0) &&
	    w->conf.prepared_statements != DB_PREPARE_OFF)
		db_listen(&w->db, CAT_CHANNEL);
	w->requests = 0;
}

/* Closes the worker's connection. */
void
worker_cleanup(struct worker *w)
{
	cat_free(&w->catalogue);
	key_uses_free(w->uses);
	w->uses = NULL;
	ans_clear(&w->answers);
	db_cleanup(&w->db);
}
