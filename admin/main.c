/* main.c: calendence-admin, the DBA tool: its commands, options, main(). */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "admin.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static const struct opt_def {
	const char	*name;		/* after the "--" */
	bool		 has_value;
} opts[OPT__MAX] = {
	[OPT_ADDRESS] = { "address", true },
	[OPT_ALL] = { "all", false },
	[OPT_BUFFER_AFTER] = { "buffer-after", true },
	[OPT_BUFFER_BEFORE] = { "buffer-before", true },
	[OPT_BUSINESS] = { "business", true },
	[OPT_CATEGORY] = { "category", true },
	[OPT_DEPOSIT] = { "deposit", true },
	[OPT_DESCRIPTION] = { "description", true },
	[OPT_DIR] = { "dir", true },
	[OPT_ENV] = { "env", true },
	[OPT_EXPIRES] = { "expires", true },
	[OPT_GRACE] = { "grace", true },
	[OPT_HOURS] = { "hours", true },
	[OPT_HUB] = { "hub", true },
	[OPT_JSON] = { "json", false },
	[OPT_KEY] = { "key", true },
	[OPT_LABEL] = { "label", true },
	[OPT_LOCATION] = { "location", true },
	[OPT_RATE_TYPE] = { "rate-type", true },
	[OPT_REASON] = { "reason", true },
	[OPT_RESOURCE_TYPE] = { "resource-type", true },
	[OPT_SINCE] = { "since", true },
	[OPT_SKILLS] = { "skills", true },
	[OPT_TIMEZONE] = { "timezone", true },
};

/* The command being run, for the messages of the database's refusals. */
static const char *current_cmd = PROG;

/* The name of the command being run (PROG before one is chosen). */
const char *
adm_cmd_name(void)
{
	return current_cmd;
}

/* The usage line of one command, on stderr. */
void
adm_cmd_usage(const struct adm_command *cmd)
{
	fprintf(stderr, "usage: " PROG " [--db CONNINFO] %s\n", cmd->usage);
}

enum cmd {
	CMD_MIGRATE,
	CMD_CREATE_HUB,
	CMD_CREATE_BUSINESS,
	CMD_ISSUE_KEY,
	CMD_LIST_KEYS,
	CMD_FIND_KEY,
	CMD_REVOKE_KEY,
	CMD_ROLL_KEY,
	CMD_SET_ORIGINS,
	CMD_CREATE_SERVICE,
	CMD_SET_SERVICE_NEEDS,
	CMD_CREATE_LOCATION,
	CMD_SET_LOCATION_HOURS,
	CMD_CREATE_STAFF,
	CMD_SET_STAFF_HOURS,
	CMD_BLOCK_STAFF_DATE,
	CMD_CREATE_RESOURCE,
	CMD_BLOCK_RESOURCE,
	CMD_DEMO,
	CMD_GRANT,
	CMD_MAINTENANCE,
	CMD_USAGE,
	CMD_HELP,
	CMD__MAX
};

#define HOURS_EG	"HOURS: 'mon-fri 09:00-12:00 13:00-17:00; sat 09:00-13:00'," \
		" or the JSON of the SQL functions"

static const struct adm_command commands[CMD__MAX] = {
	[CMD_MIGRATE] = { "migrate", adm_cmd_migrate, 0, 0, OPTBIT(OPT_DIR),
	    "migrate [--dir DIR]",
	    "apply DIR/migrations/NNN_*.sql not yet applied, then every"
	    " DIR/functions/NN_*.sql" },
	[CMD_CREATE_HUB] = { "create-hub", adm_cmd_create_hub, 2, 2, 0,
	    "create-hub NAME PLAN", "create a hub; prints its id" },
	[CMD_CREATE_BUSINESS] = { "create-business", adm_cmd_create_business,
	    3, 4, 0,
	    "create-business HUB_ID NAME TIMEZONE [SLUG]",
	    "create a business; prints its id" },
	[CMD_ISSUE_KEY] = { "issue-key", adm_cmd_issue_key, 2, 2,
	    OPTBIT(OPT_LABEL) | OPTBIT(OPT_EXPIRES),
	    "issue-key hub|business|publishable OWNER_ID [--label LABEL]"
	    " [--expires TIMESTAMPTZ]",
	    "issue a key; prints its id and the token, which is shown only"
	    " once" },
	[CMD_LIST_KEYS] = { "list-keys", adm_cmd_list_keys, 0, 0,
	    OPTBIT(OPT_HUB) | OPTBIT(OPT_BUSINESS) | OPTBIT(OPT_ALL),
	    "list-keys [--hub HUB_ID | --business BUSINESS_ID] [--all]",
	    "list live keys (--all: also revoked and expired ones)" },
	[CMD_FIND_KEY] = { "find-key", adm_cmd_find_key, 1, 1, 0,
	    "find-key TOKEN|-",
	    "the key of a token (-: read from stdin), by its hash; never"
	    " prints the token" },
	[CMD_REVOKE_KEY] = { "revoke-key", adm_cmd_revoke_key, 1, 1, 0,
	    "revoke-key KEY", "revoke a key at once (KEY: its id, or its display"
	    " form such as cal_biz_WONP when no other key has it)" },
	[CMD_ROLL_KEY] = { "roll-key", adm_cmd_roll_key, 1, 1,
	    OPTBIT(OPT_GRACE),
	    "roll-key KEY [--grace INTERVAL]",
	    "replace a key; prints the new one's id and token; the old one"
	    " works for the grace (24 hours)" },
	[CMD_SET_ORIGINS] = { "set-origins", adm_cmd_set_origins, 1, -1, 0,
	    "set-origins KEY [ORIGIN ...]",
	    "origins a publishable key may be used from (none: any)" },
	[CMD_CREATE_SERVICE] = { "create-service", adm_cmd_create_service, 4, 4,
	    OPTBIT(OPT_RATE_TYPE) | OPTBIT(OPT_DEPOSIT) |
	    OPTBIT(OPT_BUFFER_BEFORE) | OPTBIT(OPT_BUFFER_AFTER) |
	    OPTBIT(OPT_DESCRIPTION) | OPTBIT(OPT_CATEGORY) | OPTBIT(OPT_SKILLS) |
	    OPTBIT(OPT_RESOURCE_TYPE),
	    "create-service BUSINESS_ID NAME MINUTES[-MAX_MINUTES] RATE"
	    " [--rate-type flat|hourly] [--deposit AMOUNT|PERCENT%]"
	    " [--buffer-before MINUTES] [--buffer-after MINUTES]"
	    " [--description TEXT] [--category TEXT] [--skills SKILL,...]"
	    " [--resource-type TYPE]",
	    "create a service (RATE and AMOUNT in cents); prints its id" },
	[CMD_SET_SERVICE_NEEDS] = { "set-service-needs",
	    adm_cmd_set_service_needs, 1, 1,
	    OPTBIT(OPT_SKILLS) | OPTBIT(OPT_RESOURCE_TYPE),
	    "set-service-needs SERVICE_ID [--skills SKILL,...]"
	    " [--resource-type TYPE]",
	    "what a service needs: staff with all the skills, a resource of"
	    " the type (left out: none)" },
	[CMD_CREATE_LOCATION] = { "create-location", adm_cmd_create_location,
	    2, 2, OPTBIT(OPT_ADDRESS) | OPTBIT(OPT_TIMEZONE) | OPTBIT(OPT_HOURS),
	    "create-location BUSINESS_ID NAME [--address TEXT]"
	    " [--timezone ZONE] [--hours HOURS]",
	    "create a location (zone: the business's); prints its id; "
	    HOURS_EG },
	[CMD_SET_LOCATION_HOURS] = { "set-location-hours",
	    adm_cmd_set_location_hours, 2, 2, 0,
	    "set-location-hours LOCATION_ID HOURS",
	    "replace a location's weekly hours (days left out: closed)" },
	[CMD_CREATE_STAFF] = { "create-staff", adm_cmd_create_staff, 3, 3,
	    OPTBIT(OPT_SKILLS) | OPTBIT(OPT_HOURS),
	    "create-staff BUSINESS_ID NAME LOCATION_ID[,LOCATION_ID...]"
	    " [--skills SKILL,...] [--hours HOURS]",
	    "create a staff member working at the locations; prints the id" },
	[CMD_SET_STAFF_HOURS] = { "set-staff-hours", adm_cmd_set_staff_hours,
	    2, 2, OPTBIT(OPT_LOCATION),
	    "set-staff-hours STAFF_ID HOURS [--location LOCATION_ID]",
	    "replace a staff member's hours (no --location: at each of"
	    " theirs)" },
	[CMD_BLOCK_STAFF_DATE] = { "block-staff-date", adm_cmd_block_staff_date,
	    2, 2, OPTBIT(OPT_REASON),
	    "block-staff-date STAFF_ID YYYY-MM-DD [--reason TEXT]",
	    "a local date on which a staff member takes no booking" },
	[CMD_CREATE_RESOURCE] = { "create-resource", adm_cmd_create_resource,
	    3, 3, 0,
	    "create-resource LOCATION_ID TYPE NAME",
	    "create a resource (TYPE such as bay or van); prints its id" },
	[CMD_BLOCK_RESOURCE] = { "block-resource", adm_cmd_block_resource, 3, 3,
	    OPTBIT(OPT_REASON),
	    "block-resource RESOURCE_ID STARTS ENDS [--reason TEXT]",
	    "a period [STARTS, ENDS) in which a resource cannot be used;"
	    " prints the block's id" },
	[CMD_DEMO] = { "demo", adm_cmd_demo, 0, 0, OPTBIT(OPT_DIR) | OPTBIT(OPT_ENV),
	    "demo [--dir DIR] [--env FILE]",
	    "load the demo business (DIR/demo.sql) and print fresh demo keys" },
	[CMD_GRANT] = { "grant", adm_cmd_grant, 1, 1, 0, "grant ROLE",
	    "give an existing role what the workers and the webhook sender need,"
	    " no more (CREATE ROLE ... LOGIN first); again after a migration" },
	[CMD_MAINTENANCE] = { "maintenance", adm_cmd_maintenance, 0, 0, 0,
	    "maintenance", "remove dead sessions and rate windows" },
	[CMD_USAGE] = { "usage", adm_cmd_usage_counts, 0, 0,
	    OPTBIT(OPT_KEY) | OPTBIT(OPT_BUSINESS) | OPTBIT(OPT_SINCE),
	    "usage [--key KEY] [--business BUSINESS_ID]"
	    " [--since YYYY-MM-DD|INTERVAL]",
	    "per hour and key or IP: requests admitted, refused (429), with"
	    " failed credentials (401); since a date or an INTERVAL ago (a day)" },
	[CMD_HELP] = { "help", NULL, 0, 0, 0, "help", "show this text" },
};

static void
usage(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: " PROG " [--db CONNINFO] [--json] COMMAND [ARGUMENTS]\n"
	    "       " PROG " --version\n\n"
	    "The database is CONNINFO (\"key=value ...\" or a postgresql://\n"
	    "URI), completed from the PG* environment (PGHOST, PGPORT,\n"
	    "PGDATABASE, ...). --json (before or after the command): the\n"
	    "answer as one JSON object or array on stdout.\n\n"
	    "commands:\n");
	for (i = 0; i < nitems(commands); i++)
		fprintf(f, "  %s\n      %s\n", commands[i].usage,
		    commands[i].summary);
}

/*
 * The option named by 'word' (after "--", up to any "="), or -1; *value
 * is what follows "=", or NULL.
 */
static int
opt_find(const char *word, const char **value)
{
	size_t	 len = strcspn(word, "=");
	int	 o;

	for (o = 0; o < OPT__MAX; o++) {
		if (strlen(opts[o].name) == len &&
		    strncmp(opts[o].name, word, len) == 0) {
			*value = word[len] == '=' ? word + len + 1 : NULL;
			return o;
		}
	}
	return -1;
}

/*
 * Sorts the words after a command into the options it allows and its
 * positional words, which are moved to the front of argv. Returns 0, 1 for
 * --help, or -1 after saying what is wrong.
 */
static int
args_parse(struct adm_args *a, const struct adm_command *cmd, int argc,
    char **argv)
{
	const char	*value;
	bool		 done = false;
	int		 i, o;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	a->pos = argv;
	for (i = 0; i < argc; i++) {
		if (!done && strcmp(argv[i], "--") == 0) {
			done = true;
			continue;
		}
		if (done || strncmp(argv[i], "--", 2) != 0) {
			a->pos[a->npos++] = argv[i];
			continue;
		}
		if (strcmp(argv[i], "--help") == 0)
			return 1;
		if ((o = opt_find(argv[i] + 2, &value)) == -1 ||
		    ((cmd->opts | OPTBIT(OPT_JSON)) & OPTBIT(o)) == 0) {
			adm_errmsg("%s: unknown option %s", cmd->name, argv[i]);
			return -1;
		}
		if (opts[o].has_value && value == NULL &&
		    (value = argv[++i]) == NULL) {
			adm_errmsg("%s: %s needs a value", cmd->name,
			    argv[i - 1]);
			return -1;
		}
		if (!opts[o].has_value && value != NULL) {
			adm_errmsg("%s: --%s takes no value", cmd->name,
			    opts[o].name);
			return -1;
		}
		a->opt[o] = opts[o].has_value ? value : "";
	}
	a->json = a->opt[OPT_JSON] != NULL;
	if (a->npos < cmd->minpos ||
	    (cmd->maxpos >= 0 && a->npos > cmd->maxpos)) {
		adm_errmsg("%s: wrong number of arguments", cmd->name);
		return -1;
	}
	return 0;
}

/* The command named 'name', or NULL. */
static const struct adm_command *
command_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * Reads the global options before the command: --db CONNINFO, --json,
 * --help, --version (printed here). Returns the index of the command word,
 * 0 for help, -2 once the version is printed, or -1 on a usage error.
 */
static int
global_opts(int argc, char *argv[], const char **conninfo, bool *json)
{
	int	 i;

	for (i = 1; i < argc && strncmp(argv[i], "-", 1) == 0; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 0;
		if (strcmp(argv[i], "--version") == 0) {
			puts(PROG " " ADM_VERSION);
			return -2;
		}
		if (strcmp(argv[i], "--json") == 0)
			*json = true;
		else if (strncmp(argv[i], "--db=", 5) == 0)
			*conninfo = argv[i] + 5;
		else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			*conninfo = argv[++i];
		else if (strcmp(argv[i], "--db") == 0) {
			adm_errmsg("--db needs a value");
			return -1;
		} else {
			adm_errmsg("unknown option %s", argv[i]);
			return -1;
		}
	}
	return i < argc ? i : -1;
}

/*
 * calendence-admin [--db CONNINFO] COMMAND [ARGUMENTS]: exits 0 on success,
 * 1 when the database or the system refused, 2 on a usage error.
 */
int
main(int argc, char *argv[])
{
	const struct adm_command	*cmd;
	struct adm_args		 a;
	const char		*conninfo = NULL;
	PGconn			*db;
	bool			 json = false;
	int			 i, rc;

	if ((i = global_opts(argc, argv, &conninfo, &json)) == -2)
		return 0;
	if (i == -1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (i == 0 || strcmp(argv[i], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if ((cmd = command_find(argv[i])) == NULL) {
		adm_errmsg("unknown command %s", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cmd->run == NULL) {
		usage(stdout);
		return 0;
	}
	if ((rc = args_parse(&a, cmd, argc - i - 1, argv + i + 1)) != 0) {
		if (rc == -1)
			adm_cmd_usage(cmd);
		else
			printf("usage: " PROG " [--db CONNINFO] %s\n    %s\n",
			    cmd->usage, cmd->summary);
		return rc == -1 ? EXIT_USAGE : 0;
	}
	a.json = a.json || json;
	current_cmd = cmd->name;
	if (sodium_init() == -1) {
		adm_errmsg("libsodium failed to start");
		return 1;
	}
	if ((db = adm_connect(conninfo)) == NULL)
		return 1;
	rc = cmd->run(db, &a);
	PQfinish(db);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		adm_errmsg("stdout: %s", strerror(errno));
		rc = 1;
	}
	return rc;
}

