/* pgcut.h: a PostgreSQL wire proxy for the tests that cuts a connection right after a commit. */

#ifndef CALENDENCE_TESTS_PGCUT_H
#define CALENDENCE_TESTS_PGCUT_H

/*
 * The proxy listens on 127.0.0.1:port and forwards every connection to
 * PostgreSQL at 127.0.0.1:upstream_port, in a thread of the calling process.
 * Its clients must not ask for SSL or GSS encryption (sslmode=disable
 * gssencmode=disable): it reads the protocol's messages as they pass.
 *
 * pgcut_arm(name) sets a trap for the prepared statement 'name': the next
 * time a client binds it, the server's whole answer is held back, and when
 * the server says ReadyForQuery (the statement ran and, outside a
 * transaction block, committed) the proxy closes both sides without
 * forwarding any of it. The client sees its connection break after sending,
 * not knowing whether the statement ran: the fault SPEC 7 says a server
 * must never answer by blindly sending the statement again.
 */
int	 pgcut_start(int port, int upstream_port);	/* 0, or -1 with a message */
void	 pgcut_arm(const char *name);
int	 pgcut_cuts(void);	/* connections cut so far */
void	 pgcut_stop(void);

#endif
