# Calendence API: the /api/v1 FastCGI server, its DBA tool, and their tests.
# `make` builds, `make run` serves the demo, `make check` runs every test.

PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
SHAREDIR	?= $(PREFIX)/share/calendence
DOCDIR		?= $(PREFIX)/share/doc/calendence
SYSCONFDIR	?= /etc/calendence
DESTDIR		?=
# make install CALENDENCE_GROUP=www-data: the group of calendence.conf (0640)
CALENDENCE_GROUP ?=
PORT		?= 8080
B		?= build
SERVER		?= lighttpd

CC		?= cc
PKGS		:= libpq json-c libsodium
WARN		:= -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wformat=2 \
		   -fstack-protector-strong -D_FORTIFY_SOURCE=2
CFLAGS		?= -O2 -g
PKG_CFLAGS	 = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS	 = $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS	 = $(WARN) -D_DEFAULT_SOURCE -Ifcgi $(PKG_CFLAGS) $(CFLAGS)
# where the installed programs look: the default settings file (fcgi/conf.h)
# and the SQL files of calendence-admin (admin/admin.h), baked in at build
# time; $(B)/paths records them so that a change rebuilds what uses them
PATH_DEFS	 = -DCALENDENCE_SYSCONFDIR='"$(SYSCONFDIR)"' -DSHAREDIR='"$(SHAREDIR)"'
LIBS		 = -lfcgi $(PKG_LIBS)
ASAN_FLAGS	:= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
		   -fno-sanitize-recover=undefined

# everything the worker is made of, except main()
CORE_SRC	:= fcgi/buf.c fcgi/token.c fcgi/conf.c fcgi/log.c fcgi/ip.c \
		   fcgi/request.c fcgi/router.c fcgi/response.c fcgi/page.c fcgi/body.c \
		   fcgi/ratelimit.c fcgi/db.c fcgi/worker.c fcgi/auth.c fcgi/kit.c fcgi/app.c \
		   fcgi/h_services.c fcgi/h_businesses.c fcgi/h_session.c fcgi/h_bookings.c \
		   fcgi/h_webhooks.c fcgi/seal.c fcgi/usage.c fcgi/catalogue.c fcgi/answers.c \
		   fcgi/pool.c
HDRS		:= $(wildcard fcgi/*.h)
# the DBA tool, with the worker's buffer, token format and log redaction
ADMIN_SRC	:= $(wildcard admin/*.c)
ADMIN_HDRS	:= $(wildcard admin/*.h)
ADMIN_CORE	:= buf.o token.o log.o
# the webhook sender (webhooks/): the worker's settings, log, statements,
# addresses and sealed secrets, with libcurl
WH_SRC		:= $(wildcard webhooks/*.c)
WH_HDRS		:= $(wildcard webhooks/*.h)
WH_CORE		:= buf.o conf.o log.o db.o ip.o seal.o token.o
WH_CFLAGS	 = -Iwebhooks $(shell pkg-config --cflags libcurl)
WH_LIBS		 = $(PKG_LIBS) $(shell pkg-config --libs libcurl)

# docs/openapi.json, served at GET /api/v1/openapi.json, compiled in as a byte
# array (fcgi/openapi.h) so that the worker reads no file per request
DOC_C		:= $(B)/gen/openapi_doc.c
REL_OBJ		:= $(CORE_SRC:fcgi/%.c=$(B)/rel/%.o) $(B)/rel/openapi_doc.o
ASAN_OBJ	:= $(CORE_SRC:fcgi/%.c=$(B)/asan/%.o) $(B)/asan/openapi_doc.o

UNIT_SRC	:= $(wildcard tests/unit/*.c)
INTEG_SRC	:= $(wildcard tests/integration/*.c)
E2E_SRC		:= $(wildcard tests/e2e/*.c)
# the test library (tests/README.md): the HTTP client, the fixtures, the API helpers
E2E_LIB		:= $(wildcard tests/lib/*.c)
E2E_LIB_H	:= $(wildcard tests/lib/*.h)
OUTAGE_SRC	:= $(wildcard tests/outage/*.c)
LOAD_SRC	:= $(wildcard tests/load/*.c)
WEBHOOKS_TEST_SRC := $(wildcard tests/webhooks/*.c)

.PHONY: all run check check-build test-unit install uninstall clean migrate
all: fcgi/calendence.fcgi admin/calendence-admin webhooks/calendence-webhooks

$(B)/paths: FORCE
	@mkdir -p $(@D)
	@echo '$(SYSCONFDIR) $(SHAREDIR)' | cmp -s - $@ || echo '$(SYSCONFDIR) $(SHAREDIR)' >$@

.PHONY: FORCE
FORCE:

$(B)/rel/conf.o: fcgi/conf.c $(HDRS) $(B)/paths
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(PATH_DEFS) -c -o $@ $<

$(B)/asan/conf.o: fcgi/conf.c $(HDRS) $(B)/paths
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(PATH_DEFS) $(ASAN_FLAGS) -c -o $@ $<

$(B)/rel/%.o: fcgi/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/asan/%.o: fcgi/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -c -o $@ $<

$(DOC_C): docs/openapi.json
	@mkdir -p $(@D)
	{ echo '/* openapi_doc.c: docs/openapi.json as bytes; made by make, not edited. */'; \
	  echo '#include "openapi.h"'; echo 'const unsigned char openapi_doc[] = {'; \
	  od -An -v -tx1 $< | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '};'; \
	  echo 'const size_t openapi_doc_len = sizeof(openapi_doc);'; } >$@.tmp
	mv $@.tmp $@

$(B)/rel/openapi_doc.o: $(DOC_C) fcgi/openapi.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/asan/openapi_doc.o: $(DOC_C) fcgi/openapi.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -c -o $@ $<

fcgi/calendence.fcgi: fcgi/main.c $(REL_OBJ) $(HDRS)
	$(CC) $(ALL_CFLAGS) -o $@ fcgi/main.c $(REL_OBJ) $(LIBS)

admin/calendence-admin: $(ADMIN_SRC) $(ADMIN_CORE:%=$(B)/rel/%) $(ADMIN_HDRS) $(HDRS) \
		$(B)/paths
	$(CC) $(ALL_CFLAGS) $(PATH_DEFS) -o $@ $(ADMIN_SRC) $(ADMIN_CORE:%=$(B)/rel/%) $(PKG_LIBS)

webhooks/calendence-webhooks: $(WH_SRC) $(WH_CORE:%=$(B)/rel/%) $(WH_HDRS) $(HDRS)
	$(CC) $(ALL_CFLAGS) $(WH_CFLAGS) -o $@ $(WH_SRC) $(WH_CORE:%=$(B)/rel/%) $(WH_LIBS)

$(B)/asan/calendence-webhooks: $(WH_SRC) $(WH_CORE:%=$(B)/asan/%) $(WH_HDRS) $(HDRS)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(WH_CFLAGS) -o $@ $(WH_SRC) \
		$(WH_CORE:%=$(B)/asan/%) $(WH_LIBS)

$(B)/asan/calendence.fcgi: fcgi/main.c $(ASAN_OBJ) $(HDRS)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -o $@ fcgi/main.c $(ASAN_OBJ) $(LIBS)

$(B)/asan/calendence-admin: $(ADMIN_SRC) $(ADMIN_CORE:%=$(B)/asan/%) $(ADMIN_HDRS) $(HDRS) \
		$(B)/paths
	$(CC) $(ALL_CFLAGS) $(PATH_DEFS) $(ASAN_FLAGS) -o $@ $(ADMIN_SRC) $(ADMIN_CORE:%=$(B)/asan/%) \
		$(PKG_LIBS)

$(B)/tests/unit: $(UNIT_SRC) $(ASAN_OBJ) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -o $@ $(UNIT_SRC) $(ASAN_OBJ) $(LIBS) -lcriterion

$(B)/tests/integration: $(INTEG_SRC) tests/lib/fixture.c $(ASAN_OBJ) $(HDRS) $(E2E_LIB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -Itests/lib -o $@ $(INTEG_SRC) tests/lib/fixture.c \
		$(ASAN_OBJ) $(LIBS) -lcriterion

$(B)/tests/e2e: $(E2E_SRC) $(E2E_LIB) $(ASAN_OBJ) $(HDRS) $(E2E_LIB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -Itests/lib -o $@ $(E2E_SRC) $(E2E_LIB) \
		$(ASAN_OBJ) $(LIBS) -lcriterion

$(B)/tests/outage: $(OUTAGE_SRC) $(E2E_LIB) $(HDRS) $(E2E_LIB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -Itests/lib -o $@ $(OUTAGE_SRC) $(E2E_LIB) \
		$(LIBS) -lcriterion

# the webhook suite: the sender (a child process), a receiver in the test
$(B)/tests/webhooks: $(WEBHOOKS_TEST_SRC) $(E2E_LIB) $(ASAN_OBJ) $(HDRS) $(E2E_LIB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -Itests/lib -o $@ $(WEBHOOKS_TEST_SRC) $(E2E_LIB) \
		$(ASAN_OBJ) $(LIBS) -lcriterion -lpthread

# the load generator is built without sanitizers: it has to keep up with the
# workers on the same cores (the workers under load are the sanitizer build)
$(B)/tests/load: $(LOAD_SRC) $(E2E_LIB) $(wildcard tests/load/*.h) $(E2E_LIB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/lib -Itests/load -o $@ $(LOAD_SRC) $(E2E_LIB) \
		$(PKG_LIBS) -lcriterion

TEST_BINS := $(B)/asan/calendence.fcgi $(B)/asan/calendence-admin \
	     $(B)/asan/calendence-webhooks $(B)/tests/webhooks \
	     $(B)/tests/unit $(B)/tests/integration $(B)/tests/e2e $(B)/tests/outage \
	     $(B)/tests/load

test-unit: $(B)/tests/unit
	$(B)/tests/unit

# every test: unit, then integration and end-to-end against a private
# PostgreSQL and a real lighttpd started by tests/run.sh
check:
	tests/deps.sh
	$(MAKE) check-build
	BUILD_DIR=$(B) tests/run.sh

check-build: all $(TEST_BINS)

# only what the demo needs: the build, PostgreSQL and its web server
run:
	tests/deps.sh demo $(SERVER)
	$(MAKE) all
	PORT=$(PORT) SERVER=$(SERVER) tests/serve.sh

# `make bench`: throughput and latency on this machine, loopback only, in a
# few minutes: the transport and database ceilings, then the server itself
# (tests/bench/bench.sh; table on stdout, run/bench.json)
.PHONY: bench
BENCH_BIN	:= $(B)/bench/minimal.fcgi $(B)/bench/stmt-sql $(B)/bench/webhooks

bench:
	tests/deps.sh
	$(MAKE) all $(BENCH_BIN)
	BUILD_DIR=$(B) tests/bench/bench.sh

$(B)/bench/minimal.fcgi: tests/bench/minimal.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -o $@ $< -lfcgi

$(B)/bench/stmt-sql: tests/bench/stmtsql.c fcgi/db.c $(B)/rel/log.o $(B)/rel/buf.o $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ tests/bench/stmtsql.c $(B)/rel/log.o $(B)/rel/buf.o $(PKG_LIBS)

# row (w): the webhook sender's rate and the outbox's cost on POST /bookings
# (tests/bench/webhooks.c: the test library's client, fixtures and receiver,
# without sanitizers)
$(B)/bench/webhooks: tests/bench/webhooks.c tests/lib/http.c tests/lib/fixture.c \
		tests/lib/receiver.c $(E2E_LIB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/lib -o $@ tests/bench/webhooks.c tests/lib/http.c \
		tests/lib/fixture.c tests/lib/receiver.c $(PKG_LIBS) -lpthread

# `make fuzz`: libFuzzer harnesses (clang, ASan and UBSan) of every parser
# that sees outside bytes, each for FUZZ_SECONDS on its corpus; `make
# fuzz-check` (part of `make check`) replays the kept crashes and the seeds,
# then runs each for FUZZ_CHECK_SECONDS (tests/fuzz/fuzz.sh; README, Fuzzing)
.PHONY: fuzz fuzz-check
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_CHECK_SECONDS ?= 3
FUZZ_SAN	:= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
		   -fno-sanitize-recover=undefined
FUZZ_CFLAGS	 = $(WARN) -D_DEFAULT_SOURCE -Ifcgi $(PKG_CFLAGS) $(FUZZ_SAN)
FUZZ_NAMES	:= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN	:= $(FUZZ_NAMES:%=$(B)/fuzz/fuzz_%)
FUZZ_OBJ	:= $(CORE_SRC:fcgi/%.c=$(B)/fuzz/obj/%.o) $(B)/fuzz/obj/openapi_doc.o

$(B)/fuzz/obj/%.o: fcgi/%.c $(HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(B)/fuzz/obj/openapi_doc.o: $(DOC_C) fcgi/openapi.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(B)/fuzz/libcore.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $(FUZZ_OBJ)

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(B)/fuzz/libcore.a $(HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(B)/fuzz/libcore.a $(LIBS)

fuzz:
	tests/deps.sh
	$(MAKE) $(FUZZ_BIN)
	tests/fuzz/fuzz.sh run $(B) $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-check: $(FUZZ_BIN)
	tests/fuzz/fuzz.sh check $(B) $(FUZZ_CHECK_SECONDS) $(FUZZ_NAMES)

# `make check` builds the harnesses with everything else
check-build: $(FUZZ_BIN)

migrate: admin/calendence-admin
	admin/calendence-admin migrate --dir sql

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)/sql/migrations \
		$(DESTDIR)$(SHAREDIR)/sql/functions $(DESTDIR)$(SHAREDIR)/conf \
		$(DESTDIR)$(DOCDIR)
	install -m 0755 fcgi/calendence.fcgi admin/calendence-admin \
		webhooks/calendence-webhooks $(DESTDIR)$(BINDIR)/
	install -m 0644 sql/demo.sql $(DESTDIR)$(SHAREDIR)/sql/
	install -m 0644 sql/migrations/*.sql $(DESTDIR)$(SHAREDIR)/sql/migrations/
	install -m 0644 sql/functions/*.sql $(DESTDIR)$(SHAREDIR)/sql/functions/
	install -m 0644 conf/* $(DESTDIR)$(SHAREDIR)/conf/
	@# the booking widget, served by the web server at /widget/ (docs/widget.md)
	install -d $(DESTDIR)$(SHAREDIR)/widget
	install -m 0644 widget/calendence-widget.js $(DESTDIR)$(SHAREDIR)/widget/
	install -m 0644 README.md LICENSE $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(DOCDIR)/docs
	install -m 0644 docs/*.md docs/openapi.json $(DESTDIR)$(DOCDIR)/docs/
	@# the settings file is the administrator's: never overwritten; 0640, as
	@# it may hold a password; its group CALENDENCE_GROUP when given (the
	@# group the workers and the sender run as), else the installer's
	install -d $(DESTDIR)$(SYSCONFDIR)
	[ -e $(DESTDIR)$(SYSCONFDIR)/calendence.conf ] || \
		install -m 0640 conf/calendence.conf $(DESTDIR)$(SYSCONFDIR)/calendence.conf
	$(if $(CALENDENCE_GROUP),chgrp $(CALENDENCE_GROUP) $(DESTDIR)$(SYSCONFDIR)/calendence.conf)

# leaves $(SYSCONFDIR)/calendence.conf, which holds the administrator's settings
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/calendence.fcgi $(DESTDIR)$(BINDIR)/calendence-admin \
		$(DESTDIR)$(BINDIR)/calendence-webhooks
	rm -rf $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build fcgi/calendence.fcgi admin/calendence-admin webhooks/calendence-webhooks
