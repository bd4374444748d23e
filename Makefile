# TrustLens: build, test and package the native-messaging host.
#
#   make            build/trustlens-host (release flags, hardened)
#   make check      install dependencies, build, run every suite; ends with
#                   one "N passed, N failed" line
#   make asan       unit + protocol suites under AddressSanitizer + UBSan
#   make check-asan unit, protocol, integration and fault suites under ASan+UBSan
#   make check-valgrind  protocol and integration suites under valgrind
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (clang)
#   make demo       install dependencies, build, show the host at work
#   make e2e        the browser suite alone (headless Chromium, Firefox ESR)
#   make webmail    the webmail suite alone (Roundcube + Dovecot + Chromium)
#   make clean      remove everything the build made
#
# CI (CI=true) or WERROR=1 turns warnings into errors.

SHELL   := /bin/bash
CC      ?= cc
PKGS    := openssl jansson libcurl libpkcs11-helper-1 sqlite3 libpsl
BUILD   := build

WARN := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
        -Wmissing-prototypes -Wwrite-strings -Wcast-qual -Wundef -Wvla \
        -Wimplicit-fallthrough
ifneq ($(filter true 1,$(CI) $(WERROR)),)
WARN += -Werror
endif

HARDEN  := -O2 -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
           -fcf-protection -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now,-z,noexecstack
SAN     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
           -fno-sanitize-recover=all

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
DEFS    := -DOPENSSL_API_COMPAT=30000
CPPFLAGS_ALL = -I$(BUILD)/gen -Ihost -Ipkcs11 $(DEFS) $(PKG_CFLAGS)

HOST_SRC := $(wildcard host/*.c) $(wildcard pkcs11/*.c) $(BUILD)/gen/webpki_data.c \
            $(BUILD)/gen/eid_data.c
LIB_SRC  := $(filter-out host/main.c,$(HOST_SRC))
UNIT_SRC := $(wildcard tests/unit/*.c)
HDRS     := $(wildcard host/*.h pkcs11/*.h) $(BUILD)/gen/extids.h

REL_OBJ  := $(patsubst %.c,$(BUILD)/rel/%.o,$(HOST_SRC))
ASAN_OBJ := $(patsubst %.c,$(BUILD)/asan/%.o,$(HOST_SRC))
ASAN_LIB := $(filter-out $(BUILD)/asan/host/main.o,$(ASAN_OBJ))
UNIT_OBJ := $(patsubst %.c,$(BUILD)/asan/%.o,$(UNIT_SRC))

.PHONY: all deps check asan unit protocol protocol-asan fuzz-replay fuzz integration e2e demo bench clean install \
        install-tests deb pkcs11 webmail fault check-asan check-valgrind
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/trustlens-host

deps:
	@installers/deps-debian.sh

# The caller ids are compiled in from the extension's own manifest.
$(BUILD)/tools/gen_extids: host/tools/gen_extids.c host/extid.c host/extid.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 $(DEFS) $(PKG_CFLAGS) -o $@ host/tools/gen_extids.c host/extid.c $(PKG_LIBS)

$(BUILD)/gen/extids.h: extension-manifest/manifest.json $(BUILD)/tools/gen_extids
	@mkdir -p $(@D)
	$(BUILD)/tools/gen_extids $< > $@.tmp && mv $@.tmp $@

WEBPKI  := data/webpki/chrome-root-store.json data/webpki/ev-roots.json data/webpki/ct-log-list.json
# The date the files above were copied (data/README.md): change them together.
WEBPKI_COPIED := 2026-11-28

$(BUILD)/tools/gen_webpki: host/tools/gen_webpki.c host/config.c host/config.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 $(DEFS) $(PKG_CFLAGS) -o $@ host/tools/gen_webpki.c host/config.c $(PKG_LIBS)

# The EV table, EU Trusted List flags and CT logs, from data/webpki/.
$(BUILD)/gen/webpki_data.c: $(WEBPKI) $(BUILD)/tools/gen_webpki Makefile
	@mkdir -p $(@D)
	$(BUILD)/tools/gen_webpki $(WEBPKI) $(WEBPKI_COPIED) > $@.tmp 2> $(BUILD)/gen/ev-disagreements.txt && mv $@.tmp $@

EID_PEM := data/eid/belgiumrca2.pem data/eid/belgiumrca3.pem data/eid/belgiumrca4.pem \
           data/eid/belgiumrca4b.pem data/eid/belgiumrca6.pem \
           data/eid/citizenca-202002.pem data/eid/foreignerca-202001.pem

$(BUILD)/tools/gen_eid: host/tools/gen_eid.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 $(DEFS) $(PKG_CFLAGS) -o $@ host/tools/gen_eid.c $(PKG_LIBS)

# The Belgian eID roots and issuing CAs, from data/eid/.
$(BUILD)/gen/eid_data.c: $(EID_PEM) $(BUILD)/tools/gen_eid
	@mkdir -p $(@D)
	$(BUILD)/tools/gen_eid $(EID_PEM) > $@.tmp && mv $@.tmp $@

$(BUILD)/rel/$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(HARDEN) $(CPPFLAGS_ALL) $(CFLAGS) -c -o $@ $<

$(BUILD)/asan/$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	@echo "  CC/SAN  $<"
	@$(CC) $(SAN) $(CPPFLAGS_ALL) $(CFLAGS) -c -o $@ $<

$(BUILD)/rel/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(WARN) $(HARDEN) $(CPPFLAGS_ALL) $(CFLAGS) -c -o $@ $<

$(BUILD)/asan/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	@echo "  CC/SAN  $<"
	@$(CC) $(WARN) $(SAN) $(CPPFLAGS_ALL) -Itests/unit $(CFLAGS) -c -o $@ $<

$(BUILD)/trustlens-host: $(REL_OBJ)
	$(CC) $(HARDEN) $(HARDEN_LD) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(BUILD)/asan/trustlens-host: $(ASAN_OBJ)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(BUILD)/asan/unit-tests: $(UNIT_OBJ) $(ASAN_LIB)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(BUILD)/protocol-driver: tests/protocol/driver.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(DEFS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

# Suites. Each prints "N passed, N failed" last; tests/summary.sh adds them.
# The test PKI (throwaway keys, generated, never committed).
$(BUILD)/pki/.complete: tests/pki/make-pki.sh tests/pki/ca.cnf tests/pki/extensions.cnf
	@tests/pki/make-pki.sh $(BUILD)/pki >/dev/null

unit: $(BUILD)/asan/unit-tests $(BUILD)/pki/.complete
	@mkdir -p $(BUILD)/results
	@$(BUILD)/asan/unit-tests 2>&1 | tee $(BUILD)/results/unit.log

protocol: $(BUILD)/trustlens-host $(BUILD)/protocol-driver
	@mkdir -p $(BUILD)/results
	@$(BUILD)/protocol-driver $(BUILD)/trustlens-host tests/protocol/cases 2>&1 | tee $(BUILD)/results/protocol.log

protocol-asan: $(BUILD)/asan/trustlens-host $(BUILD)/protocol-driver
	@mkdir -p $(BUILD)/results
	@ASAN_OPTIONS=detect_leaks=1 $(BUILD)/protocol-driver $(BUILD)/asan/trustlens-host tests/protocol/cases 2>&1 | tee $(BUILD)/results/protocol-asan.log

integration: $(BUILD)/trustlens-host
	@mkdir -p $(BUILD)/results
	@tests/integration/site/run.sh 2>&1 | tee $(BUILD)/results/integration-site.log
	@tests/integration/mail/run.sh 2>&1 | tee $(BUILD)/results/integration-mail.log

# Fault injection (tests/fault/run.py): stalling, trickling and resetting TLS
# servers, slow/huge/garbage CRL and OCSP servers, read-only and full state,
# a locked history, SIGKILL mid-write, the port closed mid-request.
fault: $(BUILD)/trustlens-host
	@mkdir -p $(BUILD)/results
	@tests/fault/run.sh 2>&1 | tee $(BUILD)/results/fault.log

# Split from `make check` (CI runs them first): the unit, protocol,
# integration and fault suites under ASan + UBSan with leak detection, and
# the protocol and integration suites under valgrind (zero errors, zero
# definite or indirect leaks; tests/valgrind/skip.txt names the few
# wall-clock checks skipped there, with the reason). One summary line each.
check-asan: deps
	@rm -rf $(BUILD)/results-asan
	@$(MAKE) --no-print-directory all $(BUILD)/asan/unit-tests $(BUILD)/asan/trustlens-host \
	    $(BUILD)/protocol-driver $(BUILD)/pki/.complete
	@mkdir -p $(BUILD)/results-asan
	@-export ASAN_OPTIONS=detect_leaks=1 TRUSTLENS_HOST_BIN=$(abspath $(BUILD)/asan/trustlens-host); \
	r=$(BUILD)/results-asan; \
	$(BUILD)/asan/unit-tests 2>&1 | tee $$r/unit.log; \
	$(BUILD)/protocol-driver $$TRUSTLENS_HOST_BIN tests/protocol/cases 2>&1 | tee $$r/protocol.log; \
	tests/integration/site/run.sh 2>&1 | tee $$r/integration-site.log; \
	tests/integration/mail/run.sh 2>&1 | tee $$r/integration-mail.log; \
	tests/fault/run.sh 2>&1 | tee $$r/fault.log
	@tests/summary.sh $(BUILD)/results-asan unit protocol integration-site integration-mail fault

check-valgrind: deps
	@rm -rf $(BUILD)/results-valgrind $(BUILD)/valgrind
	@$(MAKE) --no-print-directory all $(BUILD)/protocol-driver $(BUILD)/pki/.complete
	@mkdir -p $(BUILD)/results-valgrind
	@-export TRUSTLENS_HOST_BIN=$(abspath tests/valgrind/host.sh) \
	    TRUSTLENS_VALGRIND_HOST=$(abspath $(BUILD)/trustlens-host) \
	    TRUSTLENS_VALGRIND_LOGS=$(abspath $(BUILD)/valgrind/logs) \
	    TRUSTLENS_TEST_SANITIZED=1 TRUSTLENS_TEST_SLOW=4 \
	    TRUSTLENS_TEST_SKIP_FILE=$(abspath tests/valgrind/skip.txt); \
	r=$(BUILD)/results-valgrind; \
	$(BUILD)/protocol-driver $$TRUSTLENS_HOST_BIN tests/protocol/cases 2>&1 | tee $$r/protocol.log; \
	tests/integration/site/run.sh 2>&1 | tee $$r/integration-site.log; \
	tests/integration/mail/run.sh 2>&1 | tee $$r/integration-mail.log; \
	tests/valgrind/scan-logs.sh $$TRUSTLENS_VALGRIND_LOGS 2>&1 | tee $$r/valgrind-logs.log
	@tests/summary.sh $(BUILD)/results-valgrind protocol integration-site integration-mail valgrind-logs

# The eID card through PKCS#11: SoftHSM2 tokens, OCSP responder, CRL server.
# The card-fault cases (tests/pkcs11/shim-module.c) run again under ASan+UBSan.
pkcs11: $(BUILD)/trustlens-host $(BUILD)/asan/trustlens-host
	@mkdir -p $(BUILD)/results
	@tests/pkcs11/run.sh 2>&1 | tee $(BUILD)/results/pkcs11.log

# Fuzz targets (tests/fuzz/fuzz_*.c): `make check` replays their committed
# corpora through a plain main under gcc with ASan+UBSan; `make fuzz` runs
# them under clang's libFuzzer for FUZZ_SECONDS each.
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60

$(BUILD)/asan/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(ASAN_LIB)
	@mkdir -p $(@D)
	@echo "  LD/SAN  $@"
	@$(CC) $(WARN) $(SAN) $(CPPFLAGS_ALL) -o $@ $< tests/fuzz/replay.c $(ASAN_LIB) $(PKG_LIBS)

fuzz-replay: $(addprefix $(BUILD)/asan/fuzz/,$(FUZZ_TARGETS))
	@mkdir -p $(BUILD)/results
	@set -o pipefail; total_p=0; total_f=0; \
	for t in $(FUZZ_TARGETS); do \
		name=$${t#fuzz_}; \
		line=$$(ASAN_OPTIONS=detect_leaks=1 $(BUILD)/asan/fuzz/$$t tests/fuzz/corpus/$$name 2>$(BUILD)/results/fuzz-$$name.err | tail -n 1); \
		p=$$(echo "$$line" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$$/\1/p'); \
		f=$$(echo "$$line" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$$/\2/p'); \
		if [ -z "$$p" ]; then echo "FAIL $$t: crashed (see $(BUILD)/results/fuzz-$$name.err)"; p=0; f=1; \
		else echo "ok   $$t: $$line"; fi; \
		total_p=$$((total_p + p)); total_f=$$((total_f + f)); \
	done; echo "$$total_p passed, $$total_f failed" | tee $(BUILD)/results/fuzz-replay.log

FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
FUZZ_SRC := $(LIB_SRC)
$(BUILD)/fuzz/obj/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	@$(FUZZ_CC) $(FUZZ_FLAGS) $(CPPFLAGS_ALL) -c -o $@ $<

$(BUILD)/fuzz/%: tests/fuzz/%.c $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(FUZZ_SRC))
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
		name=$${t#fuzz_}; mkdir -p $(BUILD)/fuzz/corpus-$$name; \
		echo "== $$t for $(FUZZ_SECONDS) s"; \
		dict=; [ -f tests/fuzz/$$name.dict ] && dict=-dict=tests/fuzz/$$name.dict; \
		$(BUILD)/fuzz/$$t $$dict -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		    -artifact_prefix=$(BUILD)/fuzz/$$name- \
		    $(BUILD)/fuzz/corpus-$$name tests/fuzz/corpus/$$name 2>&1 | \
		    grep -E 'stat::|Done|ERROR|SUMMARY|cov:' | tail -n 8 || exit 1; \
	done

e2e: $(BUILD)/trustlens-host
	@mkdir -p $(BUILD)/results
	@tests/e2e/run.sh 2>&1 | tee $(BUILD)/results/e2e.log

# Real Roundcube over real Dovecot on loopback, the extension in Chromium.
webmail: $(BUILD)/trustlens-host
	@mkdir -p $(BUILD)/results
	@tests/webmail/run.sh 2>&1 | tee $(BUILD)/results/webmail.log

# install/uninstall into temporary roots, diagnose against broken set-ups.
install-tests: $(BUILD)/trustlens-host $(BUILD)/pki/.complete
	@mkdir -p $(BUILD)/results
	@TRUSTLENS_HOST=$(BUILD)/trustlens-host TRUSTLENS_PKI=$(BUILD)/pki tests/install/run.sh 2>&1 | \
	    tee $(BUILD)/results/install.log

asan:
	@rm -rf $(BUILD)/results
	@$(MAKE) --no-print-directory $(BUILD)/asan/unit-tests $(BUILD)/asan/trustlens-host $(BUILD)/protocol-driver
	@-$(MAKE) --no-print-directory -k unit protocol-asan
	@tests/summary.sh $(BUILD)/results unit protocol-asan

check: deps
	@rm -rf $(BUILD)/results
	@$(MAKE) --no-print-directory all $(BUILD)/asan/unit-tests $(BUILD)/asan/trustlens-host $(BUILD)/protocol-driver
	@-$(MAKE) --no-print-directory -k unit protocol protocol-asan fuzz-replay integration fault pkcs11 install-tests e2e webmail
	@tests/summary.sh $(BUILD)/results unit protocol protocol-asan fuzz-replay integration-site integration-mail fault pkcs11 install e2e webmail

demo: deps all $(BUILD)/pki/.complete
	@tests/demo.sh $(BUILD)/trustlens-host

# The benchmark table against peers (bench/run.sh): stdout and bench/results.md.
bench: all $(BUILD)/pki/.complete
	@BUILD=$(BUILD) CC=$(CC) bench/run.sh

clean:
	rm -rf $(BUILD) tests/out node_modules

PREFIX  ?= /usr/local
DESTDIR ?=
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/trustlens/extension
	install -m 0755 $(BUILD)/trustlens-host $(DESTDIR)$(PREFIX)/bin/trustlens-host
	install -m 0644 docs/trustlens-host.1 $(DESTDIR)$(PREFIX)/share/man/man1/trustlens-host.1
	cp -R extension-manifest/. $(DESTDIR)$(PREFIX)/share/trustlens/extension/

# The Debian package: $(BUILD)/trustlens_<version>-1_<arch>.deb (installers/debian/).
deb: all
	+@installers/debian/build-deb.sh $(BUILD)
