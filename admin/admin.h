/* admin.h: what the files of calendence-admin, the DBA's tool, share. */
#ifndef ADMIN_H
#define ADMIN_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "token.h"

#define PROG		"calendence-admin"
#define ADM_VERSION	"0.1.0"		/* fcgi/main.c's VERSION (tests/run.sh) */
#define EXIT_USAGE	2
#define ADM_UUID_LEN	36

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
	ADM_REFRESH_STORED,
	ADM_CREATE_HUB,
	ADM_CREATE_BUSINESS,
	ADM_ISSUE_KEY,
	ADM_KEY_BY_HASH,
	ADM_KEY_RESOLVE,
	ADM_FIND_KEY,
	ADM_LIST_KEYS,
	ADM_REVOKE_KEY,
	ADM_ROLL_KEY,
	ADM_KEY_EXPIRES,
	ADM_SET_ORIGINS,
	ADM_KEY_ORIGINS,
	ADM_DEMO_REVOKE,
	ADM_DEMO_ISSUE,
	ADM_MAINTENANCE,
	ADM_CREATE_SERVICE,
	ADM_CREATE_LOCATION,
	ADM_SET_LOCATION_HOURS,
	ADM_CREATE_STAFF,
	ADM_SET_STAFF_HOURS,
	ADM_BLOCK_STAFF_DATE,
	ADM_CREATE_RESOURCE,
	ADM_BLOCK_RESOURCE,
	ADM_SET_SERVICE_NEEDS,
	ADM_USAGE,
	ADM_GRANT_WORKER,
	ADM_ST__MAX
};

/* The options of the commands (main.c's table), after the "--". */
enum adm_opt {
	OPT_ADDRESS,
	OPT_ALL,
	OPT_BUFFER_AFTER,
	OPT_BUFFER_BEFORE,
	OPT_BUSINESS,
	OPT_CATEGORY,
	OPT_DEPOSIT,
	OPT_DESCRIPTION,
	OPT_DIR,
	OPT_ENV,
	OPT_EXPIRES,
	OPT_GRACE,
	OPT_HOURS,
	OPT_HUB,
	OPT_JSON,		/* every command takes it */
	OPT_KEY,
	OPT_LABEL,
	OPT_LOCATION,
	OPT_RATE_TYPE,
	OPT_REASON,
	OPT_RESOURCE_TYPE,
	OPT_SINCE,
	OPT_SKILLS,
	OPT_TIMEZONE,
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
	bool				 json;	/* --json, before or after it */
};

/* How adm_print shows a result: human text, or JSON with --json. */
enum adm_shape {
	ADM_VALUE,	/* the one value (JSON: {column: value}) */
	ADM_RECORD,	/* one row as "name  value" lines (JSON: an object) */
	ADM_TABLE	/* aligned columns under a header (JSON: an array) */
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
int		 adm_print_value(PGconn *, const struct adm_args *, enum adm_stmt,
		    const char *const *);
PGconn		*adm_connect(const char *);

/* print.c: results as aligned text or JSON */
int		 adm_print(const struct adm_args *, const PGresult *, enum adm_shape);
int		 adm_print_done(const struct adm_args *, const char *,
		    const char *const *);

/* main.c */
void		 adm_cmd_usage(const struct adm_command *);
const char	*adm_cmd_name(void);

/* migrate.c: the migration runner and the SQL files */
const char	*adm_sql_dir_default(void);
PGresult	*adm_sql_file_exec(PGconn *, const char *, const char *);
int		 adm_cmd_migrate(PGconn *, const struct adm_args *);

/* keys.c: hubs, businesses, keys, origins, maintenance, usage */
int		 adm_cmd_create_hub(PGconn *, const struct adm_args *);
int		 adm_cmd_create_business(PGconn *, const struct adm_args *);
int		 adm_cmd_issue_key(PGconn *, const struct adm_args *);
int		 adm_cmd_list_keys(PGconn *, const struct adm_args *);
int		 adm_cmd_revoke_key(PGconn *, const struct adm_args *);
int		 adm_cmd_roll_key(PGconn *, const struct adm_args *);
int		 adm_cmd_set_origins(PGconn *, const struct adm_args *);
int		 adm_cmd_find_key(PGconn *, const struct adm_args *);
int		 adm_cmd_maintenance(PGconn *, const struct adm_args *);
int		 adm_cmd_grant(PGconn *, const struct adm_args *);
int		 adm_cmd_usage_counts(PGconn *, const struct adm_args *);

/* booking.c: services, locations, staff, hours, resources, blocks */
int		 adm_cmd_create_service(PGconn *, const struct adm_args *);
int		 adm_cmd_set_service_needs(PGconn *, const struct adm_args *);
int		 adm_cmd_create_location(PGconn *, const struct adm_args *);
int		 adm_cmd_set_location_hours(PGconn *, const struct adm_args *);
int		 adm_cmd_create_staff(PGconn *, const struct adm_args *);
int		 adm_cmd_set_staff_hours(PGconn *, const struct adm_args *);
int		 adm_cmd_block_staff_date(PGconn *, const struct adm_args *);
int		 adm_cmd_create_resource(PGconn *, const struct adm_args *);
int		 adm_cmd_block_resource(PGconn *, const struct adm_args *);

/* demo.c */
int		 adm_cmd_demo(PGconn *, const struct adm_args *);

#endif
