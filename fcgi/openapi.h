/* openapi.h: docs/openapi.json, built into the worker (make: B/gen/openapi_doc.c). */
#ifndef OPENAPI_H
#define OPENAPI_H

#include <stddef.h>

/* The bytes of docs/openapi.json as they were at build time; no NUL added. */
extern const unsigned char	openapi_doc[];
extern const size_t		openapi_doc_len;

#endif
