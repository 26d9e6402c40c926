/*
 * stmtsql.c: prints the SQL text of one of the worker's prepared statements,
 * by name, so that the bench's pgbench script runs exactly what the worker
 * runs. It includes db.c itself: the table is static there, and a copy of it
 * could drift.
 *   stmt-sql NAME        e.g. stmt-sql authenticate
 */
#include "../../fcgi/db.c"

#include <stdio.h>

int
main(int argc, char **argv)
{
	int	 i;

	if (argc != 2) {
		fputs("usage: stmt-sql NAME\n", stderr);
		return 2;
	}
	for (i = 0; i < STMT__MAX; i++)
		if (strcmp(stmts[i].name, argv[1]) == 0) {
			printf("%s\n", stmts[i].sql);
			return 0;
		}
	fprintf(stderr, "stmt-sql: no statement %s\n", argv[1]);
	return 1;
}
