# venuescan — one Makefile for the library, the program, the tests and the benchmarks.
#
#   make                  build/venuescan and build/libvenuescan.a (developer build, -Werror)
#   make check            unit tests (cmocka) and command-line tests (prove), under
#                         AddressSanitizer + UndefinedBehaviorSanitizer, in build/san/
#   make demo             the main job, end to end
#   make bench            throughput figures beside the peer tools (never a pass/fail)
#   make fuzz             libFuzzer on every parser, FUZZ_SECONDS each (clang)
#   make install PREFIX=/usr/local DESTDIR=
#
# Library flags come from pkg-config only.  When pkg-config cannot find a package (or a
# program the tests drive), scripts/install-deps runs first: see $(BUILD)/config.mk below.

PKG_CONFIG ?= pkg-config
CC ?= cc
AR ?= ar
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
SANITIZE ?=
CFLAGS ?= -O2 -g
VERSION := 0.1.0

# Every Debian library the build needs, by pkg-config name, and the programs the tests
# and benchmarks compare against.  scripts/install-deps maps them to Debian packages.
PKGS := libqrencode zbar libsodium libpng uuid jansson gsl sqlite3 libmicrohttpd libcurl zlib
TEST_PKGS := cmocka
PROGRAMS := qrencode zbarimg prove curl jq bc

WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wno-unused-parameter -Wformat=2 -Wvla
DATADIR ?= $(PREFIX)/share/venuescan
DEFS := -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -DVS_VERSION='"$(VERSION)"' -DVS_DATADIR='"$(DATADIR)"'
ifneq ($(SANITIZE),)
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
DEFS += -DVS_FAULT_INJECTION
endif
ALL_CFLAGS = $(WARN) $(DEFS) $(SANFLAGS) -Iinclude -Isrc $(PKG_CFLAGS) $(CFLAGS) -pthread -MMD -MP
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS) -pthread
LIBS = $(PKG_LIBS) -lm

# Quiet build lines ("CC src/qr.c"); V=1 shows the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

LIB_SRC := $(wildcard src/*.c src/detect/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
# The published rules, built into the library from the rules file (one copy of the text).
GEN_OBJ := $(BUILD)/obj/gen/rules_default.o
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(GEN_OBJ)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check unit cli demo bench fuzz install uninstall clean deps
all: $(BUILD)/venuescan $(BUILD)/libvenuescan.a

# config.mk records the pkg-config flags once; making it installs what is missing.
NO_CONFIG_GOALS := clean deps
ifneq ($(filter-out $(NO_CONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
-include $(BUILD)/config.mk
endif
$(BUILD)/config.mk: Makefile scripts/install-deps
	@mkdir -p $(BUILD)
	@if ! $(PKG_CONFIG) --exists $(PKGS) $(TEST_PKGS) 2>/dev/null || \
	    ! { for p in $(PROGRAMS); do command -v $$p >/dev/null || exit 1; done; }; then \
		echo "make: libraries or programs missing; running scripts/install-deps" >&2; \
		scripts/install-deps || exit 1; \
	fi
	@{ echo "PKG_CFLAGS := $$($(PKG_CONFIG) --cflags $(PKGS))"; \
	   echo "PKG_LIBS := $$($(PKG_CONFIG) --libs $(PKGS))"; \
	   echo "TEST_CFLAGS := $$($(PKG_CONFIG) --cflags $(TEST_PKGS))"; \
	   echo "TEST_LIBS := $$($(PKG_CONFIG) --libs $(TEST_PKGS))"; } > $@.tmp && mv $@.tmp $@

deps:
	scripts/install-deps

$(BUILD)/obj/%.o: %.c $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/gen/rules_default.c: fixtures/rules/henan-2021.rules
	@mkdir -p $(@D)
	$(call say,GEN,$@)
	$(Q){ echo '/* Generated from $< by the Makefile: do not edit. */'; \
	   echo 'extern const char vs_rules_default_text[];'; \
	   echo 'const char vs_rules_default_text[] = {'; \
	   od -An -v -tx1 $< | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	   echo '0x00 };'; } > $@.tmp && mv $@.tmp $@

$(GEN_OBJ): $(BUILD)/gen/rules_default.c $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libvenuescan.a: $(LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/venuescan: $(CLI_OBJ) $(BUILD)/libvenuescan.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $(CLI_OBJ) $(BUILD)/libvenuescan.a $(LIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libvenuescan.a
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) $< $(BUILD)/libvenuescan.a $(ALL_LDFLAGS) $(LIBS) $(TEST_LIBS) -o $@

# --- tests -----------------------------------------------------------------------------
# `make check` rebuilds everything with the sanitizers in $(BUILD)/san and runs both suites.
# ASan's leak checker needs ptrace, which some sandboxes refuse; LSan stays on where it works.
SAN_BUILD := $(BUILD)/san
# Seconds a command-line test script may run before it counts as hung (and fails).
TEST_TIMEOUT ?= 900
check:
	$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) SANITIZE=address,undefined CFLAGS="-O1 -g" unit cli

TEST_ENV = VS_CHECK=$(if $(SANITIZE),1,0) VENUESCAN=$(abspath $(BUILD)/venuescan) FIXTURES=$(abspath fixtures) \
           TOP=$(abspath .) BUILD_DIR=$(abspath $(BUILD)) \
           ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "# $$t"; $(TEST_ENV) $$t; done

cli: $(BUILD)/venuescan
	$(TEST_ENV) prove -f --exec "timeout $(TEST_TIMEOUT) bash" tests/cli/

# --- the main job and the benchmarks ---------------------------------------------------
demo: $(BUILD)/venuescan
	$(BUILD)/venuescan demo --out $(BUILD)/demo

bench: $(BUILD)/venuescan $(BUILD)/libvenuescan.a
	scripts/install-deps --bench
	VENUESCAN=$(BUILD)/venuescan BUILD_DIR=$(BUILD) CC="$(CC)" \
	  BENCH_CFLAGS="$(WARN) $(DEFS) -Iinclude $(PKG_CFLAGS) -O2" BENCH_LIBS="$(LIBS)" scripts/bench

# --- fuzzing ---------------------------------------------------------------------------
# `make fuzz` builds one libFuzzer harness per parser (tests/fuzz/fuzz_*.c) with clang,
# ASan and UBSan, seeds each from the fixtures, and runs each for FUZZ_SECONDS; the first
# crash stops it, its reproducer saved as $(FUZZ_BUILD)/artifacts/crash-TARGET-*.  The
# library is compiled again for it in $(FUZZ_BUILD) (coverage-instrumented, clang).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD := $(BUILD)/fuzz
FUZZ_TARGETS := payload foreign rules scenario image time csv
FUZZ_SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = $(filter-out -Werror,$(WARN)) $(DEFS) $(FUZZ_SANFLAGS) -Iinclude -Isrc \
              $(PKG_CFLAGS) -O1 -g -pthread -MMD -MP -Wno-format-nonliteral
FUZZ_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/gen/rules_default.o
FUZZ_BIN := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
# Longest input per harness: a little over what each format accepts or needs.
FUZZ_MAXLEN_payload := 4096
FUZZ_MAXLEN_foreign := 4096
FUZZ_MAXLEN_rules := 8192
FUZZ_MAXLEN_scenario := 16384
FUZZ_MAXLEN_image := 65536
FUZZ_MAXLEN_time := 64
FUZZ_MAXLEN_csv := 8192
# Seeds: the fixtures each parser reads (and tests/fuzz/seeds/TARGET for what none holds).
FUZZ_SEEDS_payload := $(wildcard tests/fuzz/seeds/payload/*) $(wildcard fixtures/foreign/*.txt)
FUZZ_SEEDS_foreign := $(wildcard fixtures/foreign/*.txt)
FUZZ_SEEDS_rules := $(wildcard fixtures/rules/*.rules)
FUZZ_SEEDS_scenario := $(wildcard fixtures/scenarios/*.ini fixtures/bad/scenario-*.ini)
FUZZ_SEEDS_image := $(wildcard fixtures/bad/*.png fixtures/bad/*.pgm fixtures/realworld/*.png)
FUZZ_SEEDS_time := $(wildcard tests/fuzz/seeds/time/*)
FUZZ_SEEDS_csv := $(wildcard fixtures/venues/*.csv fixtures/bad/*.csv fixtures/datasets/tiny/*.csv)

fuzz: $(FUZZ_BIN)
	@scripts/install-deps --bench >/dev/null
	@set -e; for t in $(FUZZ_TARGETS); do \
		case $$t in \
		payload) seeds="$(FUZZ_SEEDS_payload)"; max=$(FUZZ_MAXLEN_payload) ;; \
		foreign) seeds="$(FUZZ_SEEDS_foreign)"; max=$(FUZZ_MAXLEN_foreign) ;; \
		rules) seeds="$(FUZZ_SEEDS_rules)"; max=$(FUZZ_MAXLEN_rules) ;; \
		scenario) seeds="$(FUZZ_SEEDS_scenario)"; max=$(FUZZ_MAXLEN_scenario) ;; \
		image) seeds="$(FUZZ_SEEDS_image)"; max=$(FUZZ_MAXLEN_image) ;; \
		time) seeds="$(FUZZ_SEEDS_time)"; max=$(FUZZ_MAXLEN_time) ;; \
		csv) seeds="$(FUZZ_SEEDS_csv)"; max=$(FUZZ_MAXLEN_csv) ;; \
		esac; \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/seeds/$$t $(FUZZ_BUILD)/artifacts; \
		for f in $$seeds; do cp $$f $(FUZZ_BUILD)/seeds/$$t/; done; \
		echo "# fuzz_$$t: $(FUZZ_SECONDS) s, -max_len=$$max"; \
		ASAN_OPTIONS=abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=$$max \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/crash-$$t- \
			$(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/seeds/$$t; \
	done

$(FUZZ_BUILD)/obj/%.o: %.c $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/obj/gen/rules_default.o: $(BUILD)/gen/rules_default.c $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/libvenuescan.a: $(FUZZ_OBJ)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libvenuescan.a
	$(call say,LINK,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_FIXTURES='"$(abspath fixtures)"' -fsanitize=fuzzer \
	  $< $(FUZZ_BUILD)/libvenuescan.a $(LIBS) -o $@

-include $(FUZZ_OBJ:.o=.d)

# --- installation ----------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/include/venuescan $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BUILD)/venuescan $(DESTDIR)$(PREFIX)/bin/venuescan
	install -m 0644 $(BUILD)/libvenuescan.a $(DESTDIR)$(PREFIX)/lib/libvenuescan.a
	install -m 0644 include/venuescan/*.h $(DESTDIR)$(PREFIX)/include/venuescan/
	install -m 0644 docs/venuescan.1 $(DESTDIR)$(PREFIX)/share/man/man1/venuescan.1
	for d in scenarios rules venues; do \
		install -d $(DESTDIR)$(DATADIR)/$$d && install -m 0644 fixtures/$$d/* $(DESTDIR)$(DATADIR)/$$d/; \
	done
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' -e 's|@REQUIRES@|$(PKGS)|g' \
	  venuescan.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/venuescan.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/venuescan $(DESTDIR)$(PREFIX)/lib/libvenuescan.a \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/venuescan.pc $(DESTDIR)$(PREFIX)/share/man/man1/venuescan.1
	rm -rf $(DESTDIR)$(PREFIX)/include/venuescan $(DESTDIR)$(DATADIR)

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
