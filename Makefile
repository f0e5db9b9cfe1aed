# kmemwatch: plain GNU make.  `make V=1` shows the commands.
#
#   make            build build/kmemwatchd, build/kmemtop, build/kmemctl
#   make run        install build deps if missing, build, open kmemtop on this kernel
#   make check      install deps if missing, build, run every test
#   make asan       the whole suite under AddressSanitizer + UBSan (build-asan/)
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (build-fuzz/)
#   make bench      benchmarks (prints figures)
#   make install    DESTDIR=... PREFIX=/usr/local

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR   ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DOCDIR    ?= $(PREFIX)/share/doc/kmemwatch

BUILD     ?= build
CC        ?= cc
PKG_CONFIG ?= pkg-config
FUZZ_SECONDS ?= 60
FUZZ_CC   ?= clang

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef -Wvla -Wnull-dereference \
        -Wimplicit-fallthrough -Werror
OPT    ?= -O2 -g
SAN_FLAGS :=
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT := -O1 -g
endif

# Lazily evaluated so that `make deps` can run before pkg-config exists.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags ncursesw libsystemd jansson libmicrohttpd 2>/dev/null)
PKG_LIBS_NCURSES = $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null)
PKG_LIBS_SYSTEMD = $(shell $(PKG_CONFIG) --libs libsystemd 2>/dev/null)
PKG_LIBS_JANSSON = $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null)
PKG_LIBS_MHD     = $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null)
PKG_LIBS_CMOCKA  = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

ALL_CFLAGS = -std=gnu11 $(OPT) $(WARN) $(SAN_FLAGS) -D_GNU_SOURCE -Icommon $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)

COMMON_SRC := $(wildcard common/*.c)
DAEMON_SRC := $(wildcard daemon/*.c)
TUI_SRC    := $(wildcard tui/*.c)
CLI_SRC    := $(wildcard cli/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC  := $(wildcard bench/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB        := $(BUILD)/libkmw.a
PROGS      := $(BUILD)/kmemwatchd $(BUILD)/kmemtop $(BUILD)/kmemctl
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
LOADGEN    := $(BUILD)/bench/loadgen
BENCH_RING := $(BUILD)/bench/bench_ring

# Debian packages the build and the tests need (make deps installs the missing ones).
DEB_PKGS := gcc make pkg-config libncurses-dev libsystemd-dev libjansson-dev libcmocka-dev \
            clang libclang-rt-14-dev tmux procps systemd python3 iproute2 libmicrohttpd-dev \
            prometheus curl prometheus-node-exporter

.PHONY: all deps run check check-nodeps asan fuzz fuzz-build bench install uninstall clean \
        unit e2e fuzz-smoke

MANPAGES := $(BUILD)/kmemtop.1

all: $(PROGS) $(MANPAGES)

# The key list of kmemtop(1) comes from the same table as the keys themselves.
$(BUILD)/kmemtop.1: docs/kmemtop.1.in $(BUILD)/kmemtop
	@$(if $(Q),echo "  GEN     $@")
	$(Q)./$(BUILD)/kmemtop --keys >$@.keys && sed -e '/^@KEYS@$$/{r $@.keys' -e 'd}' $< >$@ && rm -f $@.keys

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(call obj,$(COMMON_SRC))
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/kmemwatchd: $(call obj,$(DAEMON_SRC)) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS_SYSTEMD) $(PKG_LIBS_MHD) $(PKG_LIBS_JANSSON) -lm

$(BUILD)/kmemtop: $(call obj,$(TUI_SRC)) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS_NCURSES) $(PKG_LIBS_JANSSON) -lm

$(BUILD)/kmemctl: $(call obj,$(CLI_SRC)) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS_JANSSON) -lm

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS_CMOCKA) $(PKG_LIBS_JANSSON) -lm

# The trend is kmemtop's, not the common library's: its test links it too.
$(BUILD)/tests/test_trend: $(BUILD)/obj/tui/trend.o
# The event loop is the daemon's: its test links it ahead of the library it uses.
$(BUILD)/tests/test_loop: $(BUILD)/obj/tests/unit/test_loop.o $(BUILD)/obj/daemon/loop.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS_CMOCKA) -lm

# kmemtop's screens: its modules without its main(), as bench_frame below.
$(BUILD)/tests/test_screens: $(BUILD)/obj/tests/unit/test_screens.o $(call obj,$(filter-out tui/kmemtop.c,$(TUI_SRC))) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS_CMOCKA) $(PKG_LIBS_NCURSES) $(PKG_LIBS_JANSSON) -lm

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS_JANSSON) -lm

# kmemtop's frames: its modules without its main().
$(BUILD)/bench/bench_frame: $(BUILD)/obj/bench/bench_frame.o $(call obj,$(filter-out tui/kmemtop.c,$(TUI_SRC))) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS_NCURSES) $(PKG_LIBS_JANSSON) -lm

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

deps:
	$(Q)missing=""; for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "make deps: installing$$missing"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./$(BUILD)/kmemtop

check: deps
	$(Q)$(MAKE) --no-print-directory check-nodeps

check-nodeps: all $(UNIT_BINS) $(LOADGEN) $(BENCH_RING) fuzz-build
	$(Q)BUILD=$(BUILD) tests/run.sh

asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan SAN=1 FUZZ_SMOKE=0 check-nodeps

# libFuzzer targets: one per parser, each built with its own main from libFuzzer.
FUZZ_BUILD := build-fuzz
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRC))
FUZZ_CFLAGS = -std=gnu11 -g -O1 -D_GNU_SOURCE -Icommon $(shell $(PKG_CONFIG) --cflags jansson 2>/dev/null) \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

$(FUZZ_BUILD)/%: tests/fuzz/%.c $(COMMON_SRC) $(wildcard common/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ-CC $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(COMMON_SRC) $(PKG_LIBS_JANSSON) -lm

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_BINS)

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) bench/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/kmemwatch \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/kmemctl $(BUILD)/kmemtop $(DESTDIR)$(BINDIR)/
	install -m 0755 $(BUILD)/kmemwatchd $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(wildcard docs/*.1) $(BUILD)/kmemtop.1 $(DESTDIR)$(MANDIR)/man1/
	$(if $(wildcard docs/*.5),install -m 0644 $(wildcard docs/*.5) $(DESTDIR)$(MANDIR)/man5/)
	$(if $(wildcard docs/*.8),install -m 0644 $(wildcard docs/*.8) $(DESTDIR)$(MANDIR)/man8/)
	sed "s|@SBINDIR@|$(SBINDIR)|g" systemd/kmemwatchd.service.in >$(DESTDIR)$(UNITDIR)/kmemwatchd.service && chmod 0644 $(DESTDIR)$(UNITDIR)/kmemwatchd.service
	install -m 0644 systemd/kmemwatchd.socket $(DESTDIR)$(UNITDIR)/
	install -m 0644 systemd/kmemwatch.sysusers $(DESTDIR)$(SYSUSERSDIR)/kmemwatch.conf
	install -m 0644 docs/kmemwatchd.conf.example $(DESTDIR)$(DOCDIR)/kmemwatchd.conf.example
	install -m 0644 systemd/metrics.conf.example docs/GROWTH.md docs/PROMETHEUS.md $(DESTDIR)$(DOCDIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/kmemwatch/kmemwatchd.conf || \
	    install -m 0644 docs/kmemwatchd.conf.example $(DESTDIR)$(SYSCONFDIR)/kmemwatch/kmemwatchd.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kmemctl $(DESTDIR)$(BINDIR)/kmemtop $(DESTDIR)$(SBINDIR)/kmemwatchd
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard docs/*.1)) kmemtop.1)
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard docs/*.5)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(wildcard docs/*.8)))
	rm -f $(DESTDIR)$(UNITDIR)/kmemwatchd.service $(DESTDIR)$(UNITDIR)/kmemwatchd.socket
	rm -f $(DESTDIR)$(SYSUSERSDIR)/kmemwatch.conf
	rm -rf $(DESTDIR)$(DOCDIR)
	@echo "left $(DESTDIR)$(SYSCONFDIR)/kmemwatch/kmemwatchd.conf in place (local configuration)"

clean:
	rm -rf build build-asan build-fuzz
