/* admin.h: what the files of calendence-admin, the DBA's tool, share. */
#ifndef ADMIN_H
#define ADMIN_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "token.h"

#define PROG		"calendence-admin"
#define EXIT_USAGE	2

#ifndef SHAREDIR
#define SHAREDIR	"/usr/local/share/calendence"
#endif

#define PARAMS(...)	((const char *const []){ __VA_ARGS__ })

/* Every statement the tool sends (sql.c's table); user input only as $n. */
enum adm_stmt {
	ADM_XACT_LOCK,
	ADM_BEGIN,
	ADM_COMMIT,
	ADM_ROLLBACK,
	ADM_SCHEMA,
	ADM_MIGRATIONS_TABLE,
	ADM_MIGRATION_DONE,
	ADM_MIGRATION_RECORD,
	ADM_BODIES_UNCHECKED,
	ADM_FUNCTIONS_CHECK,
	ADM_CREATE_HUB,
	ADM_CREATE_BUSINESS,
	ADM_ISSUE_KEY,
	ADM_LIST_KEYS,
	ADM_REVOKE_KEY,
	ADM_ROLL_KEY,
	ADM_KEY_EXPIRES,
	ADM_SET_ORIGINS,
	ADM_DEMO_REVOKE,
	ADM_DEMO_ISSUE,
	ADM_MAINTENANCE,
	ADM_ST__MAX
};

/* The options of the commands (main.c's table), after the "--". */
enum adm_opt {
	OPT_ALL,
	OPT_BUSINESS,
	OPT_DIR,
	OPT_ENV,
	OPT_EXPIRES,
	OPT_GRACE,
	OPT_HUB,
	OPT_LABEL,
	OPT__MAX
};

#define OPTBIT(o)	(1u << (o))

struct adm_command;

/* A command's words: options by enum ("" for a flag given), then the rest. */
struct adm_args {
	const struct adm_command	*cmd;
	const char			*opt[OPT__MAX];
	char				**pos;
	int				 npos;
};

struct adm_command {
	const char	*name;
	/* NULL: help */
	int		(*run)(PGconn *, const struct adm_args *);
	int		 minpos;
	int		 maxpos;		/* -1: no limit */
	unsigned int	 opts;		/* OPTBIT()s it allows */
	const char	*usage;
	const char	*summary;
};

/* sql.c: messages, the statements, printing results, connecting */
void		 adm_errmsg(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
void		 adm_pg_warn(PGconn *, const PGresult *, const char *);
bool		 adm_result_ok(const PGresult *);
PGresult	*adm_query(PGconn *, enum adm_stmt, const char *const *);
int		 adm_exec(PGconn *, enum adm_stmt, const char *const *);
void		 adm_rollback(PGconn *);
void		 adm_wipe_value(PGresult *, int, int);
int		 adm_token_check(const char *, enum token_kind);
int		 adm_print_value(PGconn *, enum adm_stmt, const char *const *);
int		 adm_print_token(PGconn *, enum adm_stmt, const char *const *);
void		 adm_print_table(const PGresult *);
PGconn		*adm_connect(const char *);

/* main.c */
void		 adm_cmd_usage(const struct adm_command *);

/* migrate.c: the migration runner and the SQL files */
const char	*adm_sql_dir_default(void);
PGresult	*adm_sql_file_exec(PGconn *, const char *, const char *);
int		 adm_cmd_migrate(PGconn *, const struct adm_args *);

/* keys.c: hubs, businesses, keys, origins, maintenance */
int		 adm_cmd_create_hub(PGconn *, const struct adm_args *);
int		 adm_cmd_create_business(PGconn *, const struct adm_args *);
int		 adm_cmd_issue_key(PGconn *, const struct adm_args *);
int		 adm_cmd_list_keys(PGconn *, const struct adm_args *);
int		 adm_cmd_revoke_key(PGconn *, const struct adm_args *);
int		 adm_cmd_roll_key(PGconn *, const struct adm_args *);
int		 adm_cmd_set_origins(PGconn *, const struct adm_args *);
int		 adm_cmd_maintenance(PGconn *, const struct adm_args *);

/* demo.c */
int		 adm_cmd_demo(PGconn *, const struct adm_args *);

#endif
