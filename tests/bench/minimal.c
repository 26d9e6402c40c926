/*
 * minimal.c: the transport ceiling of `make bench`: a FastCGI responder that
 * answers every request with a fixed small JSON body, without a database.
 * It runs where calendence.fcgi runs (lighttpd's bin-path, the listening
 * socket as fd 0) and as it runs there: with --workers N, N processes
 * accept on that one socket (conf/lighttpd.conf), here children of one
 * that only waits; so the bench measures lighttpd, FastCGI and wrk alone.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

static const char reply[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-store\r\n"
    "\r\n"
    "{\"data\":[],\"ok\":true}";

int
main(int argc, char **argv)
{
	FCGX_Request	 fr;
	int		 i, n = 0;

	if (argc == 3 && strcmp(argv[1], "--workers") == 0)
		n = atoi(argv[2]);
	for (i = 0; i < n; i++)
		if (fork() == 0) {
			/* gone with the parent, which lighttpd stops */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			n = 0;
			break;
		}
	if (n > 0) {
		while (wait(NULL) > 0)
			;
		return 0;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, 0, 0) != 0) {
		fputs("minimal: cannot set up FastCGI\n", stderr);
		return 1;
	}
	while (FCGX_Accept_r(&fr) >= 0) {
		FCGX_PutStr(reply, (int)strlen(reply), fr.out);
		FCGX_Finish_r(&fr);
	}
	FCGX_Free(&fr, 1);
	return 0;
}
