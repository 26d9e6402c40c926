/*
 * minimal.c: the transport ceiling of `make bench`: a FastCGI responder that
 * answers every request with a fixed small JSON body, without a database.
 * It runs where calendence.fcgi runs (lighttpd's bin-path, the listening
 * socket as fd 0), so the bench measures lighttpd, FastCGI and wrk alone.
 */
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

static const char reply[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-store\r\n"
    "\r\n"
    "{\"data\":[],\"ok\":true}";

int
main(void)
{
	FCGX_Request	 fr;

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
