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
	[OPT_ALL] = { "all", false },
	[OPT_BUSINESS] = { "business", true },
	[OPT_DIR] = { "dir", true },
	[OPT_ENV] = { "env", true },
	[OPT_EXPIRES] = { "expires", true },
	[OPT_GRACE] = { "grace", true },
	[OPT_HUB] = { "hub", true },
	[OPT_LABEL] = { "label", true },
};

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
	CMD_REVOKE_KEY,
	CMD_ROLL_KEY,
	CMD_SET_ORIGINS,
	CMD_DEMO,
	CMD_MAINTENANCE,
	CMD_HELP,
	CMD__MAX
};

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
	    "issue a key; prints the token, which is shown only once" },
	[CMD_LIST_KEYS] = { "list-keys", adm_cmd_list_keys, 0, 0,
	    OPTBIT(OPT_HUB) | OPTBIT(OPT_BUSINESS) | OPTBIT(OPT_ALL),
	    "list-keys [--hub HUB_ID | --business BUSINESS_ID] [--all]",
	    "list live keys (--all: also revoked and expired ones)" },
	[CMD_REVOKE_KEY] = { "revoke-key", adm_cmd_revoke_key, 1, 1, 0,
	    "revoke-key KEY_ID", "revoke a key at once" },
	[CMD_ROLL_KEY] = { "roll-key", adm_cmd_roll_key, 1, 1,
	    OPTBIT(OPT_GRACE),
	    "roll-key KEY_ID [--grace INTERVAL]",
	    "replace a key; the old one works for the grace (24 hours)" },
	[CMD_SET_ORIGINS] = { "set-origins", adm_cmd_set_origins, 1, -1, 0,
	    "set-origins KEY_ID [ORIGIN ...]",
	    "origins a publishable key may be used from (none: any)" },
	[CMD_DEMO] = { "demo", adm_cmd_demo, 0, 0, OPTBIT(OPT_DIR) | OPTBIT(OPT_ENV),
	    "demo [--dir DIR] [--env FILE]",
	    "load the demo business (DIR/demo.sql) and print fresh demo keys" },
	[CMD_MAINTENANCE] = { "maintenance", adm_cmd_maintenance, 0, 0, 0,
	    "maintenance", "remove dead sessions and rate windows" },
	[CMD_HELP] = { "help", NULL, 0, 0, 0, "help", "show this text" },
};

static void
usage(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: " PROG " [--db CONNINFO] COMMAND [ARGUMENTS]\n\n"
	    "The database is CONNINFO (\"key=value ...\" or a postgresql://\n"
	    "URI), completed from the PG* environment (PGHOST, PGPORT,\n"
	    "PGDATABASE, ...).\n\n"
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
		    (cmd->opts & OPTBIT(o)) == 0) {
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
 * Reads the global options before the command: --db CONNINFO, --help.
 * Returns the index of the command word, 0 for help, or -1 on a usage error.
 */
static int
global_opts(int argc, char *argv[], const char **conninfo)
{
	int	 i;

	for (i = 1; i < argc && strncmp(argv[i], "-", 1) == 0; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 0;
		if (strncmp(argv[i], "--db=", 5) == 0)
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
	int			 i, rc;

	if ((i = global_opts(argc, argv, &conninfo)) == -1) {
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

