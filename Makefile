# sloe: one non-recursive Makefile.
#   make            build bin/sloe
#   make test       unit and command-line tests, then again under ASan+UBSan
#   make deps       install the Debian packages the build, tests and demo need (as root)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (default 60)
#   make check-valgrind  unit, evaluator and fault tests under valgrind (part of make test)
#   make soak       the soak test for SOAK_SECONDS (default 1800; not in make test)
#   make format-check

CC       ?= cc
PKGS     := yaml-0.1 libcurl jansson libprotobuf-c zlib gnutls libcrypt libmicrohttpd snappy
WARN     := -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes \
            -Wmissing-prototypes -Wwrite-strings -Wformat=2 -Wvla -Wno-sign-conversion
WERROR   := $(if $(CI),-Werror,)
CFLAGS   ?= -O2 -g
SAN      :=
ALLFLAGS  = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(WARN) $(WERROR) $(CFLAGS) $(SAN) \
            -Irules -Ievaluator -Iexporter -I$(BUILD)/gen $(shell pkg-config --cflags $(PKGS))
REVISION := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
ALLFLAGS += -DSLOE_REVISION=\"$(REVISION)\"
LIBS      = $(shell pkg-config --libs $(PKGS)) -lm
BUILD    ?= build
BIN      ?= bin

RULES_SRC    := rules/arena.c rules/diag.c rules/duration.c rules/tz.c rules/ydoc.c rules/build.c \
                rules/rules.c rules/native.c rules/sloth.c rules/openslo.c
EVAL_SRC     := evaluator/prom.c evaluator/period.c evaluator/mask.c evaluator/history.c \
                evaluator/budget.c evaluator/remote.c \
                evaluator/eval.c
EXPORTER_SRC := exporter/expo.c exporter/expo_value.c exporter/expo_om.c exporter/expo_pb.c \
                exporter/negotiate.c \
                exporter/page.c exporter/webcfg.c exporter/log.c exporter/serve.c \
                exporter/alerts.c exporter/report.c exporter/html.c exporter/cli.c
LIB_SRC      := $(RULES_SRC) $(EVAL_SRC) $(EXPORTER_SRC)
MAIN_SRC     := exporter/main.c
TEST_SRC     := tests/unit/harness.c tests/unit/test_duration.c \
                tests/unit/test_rules.c tests/unit/test_corpus.c tests/unit/test_cli.c \
                tests/unit/test_prom.c tests/unit/test_remote.c tests/unit/test_history.c tests/unit/test_expo.c \
                tests/unit/test_page.c tests/unit/test_webcfg.c tests/unit/test_report.c
FUZZ_TARGETS := fuzz_rules fuzz_prom fuzz_negotiate fuzz_webcfg fuzz_expo fuzz_remote

GEN_SRC  = $(BUILD)/gen/metrics.pb-c.c $(BUILD)/gen/prompb.pb-c.c
GEN_OBJ  = $(BUILD)/gen/metrics.pb-c.o $(BUILD)/gen/prompb.pb-c.o
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o) $(GEN_OBJ)
MAIN_OBJ = $(MAIN_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ = $(TEST_SRC:%.c=$(BUILD)/%.o)

all: $(BIN)/sloe

$(BIN)/sloe: $(LIB_OBJ) $(MAIN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALLFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/sloe-tests: $(LIB_OBJ) $(TEST_OBJ)
	$(CC) $(ALLFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/evaldriver: $(LIB_OBJ) $(BUILD)/tests/integration/evaldriver.o
	$(CC) $(ALLFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bench_render: $(LIB_OBJ) $(BUILD)/tests/bench/bench_render.o
	$(CC) $(ALLFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/bench/bench_read.o: | $(BUILD)/gen/prompb.pb-c.h $(BUILD)/gen/metrics.pb-c.h

$(BUILD)/bench_read: $(LIB_OBJ) $(BUILD)/tests/bench/bench_read.o
	$(CC) $(ALLFLAGS) -o $@ $^ $(LIBS)

# Benchmarks print figures; they assert nothing (speed is measured here, not in tests),
# except that bench_read.py fails when remote read and query_range disagree on the data.
# BENCH_READ_G routes, BENCH_READ_DAYS days of data (the TSDB is cached under build/).
# bench_scale: samples Prometheus touches per cycle for sloe vs Sloth- and Pyrra-style rules,
# accuracy and start-up over 31 days x BENCH_SCALE_ROUTES routes (default 1000; the TSDB is
# generated once, a few minutes, and kept under build/bench-scale/). It fails only when
# sloe's compliance is off by more than 1 % of the error budget.
# bench_load: sloe serve's CPU per cycle and RSS at 10,000 SLOs (grouped and separate rules)
# and /metrics scrape throughput with wrk next to node_exporter; fails only when sloe fails.
BENCH_READ_G    ?= 100
BENCH_READ_DAYS ?= 31

bench: $(BUILD)/bench_render $(BUILD)/bench_read $(BIN)/sloe $(BUILD)/evaldriver
	$(BUILD)/bench_render 10000
	BENCH_READ=$(BUILD)/bench_read BENCH_READ_CACHE=$(BUILD)/bench-read \
	    python3 tests/bench/bench_read.py --routes=$(BENCH_READ_G) --days=$(BENCH_READ_DAYS)
	SLOE_BIN=$(BIN)/sloe EVALDRIVER=$(BUILD)/evaldriver python3 tests/bench/bench_scale.py
	SLOE_BIN=$(BIN)/sloe python3 tests/bench/bench_load.py

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALLFLAGS) -MMD -MP -c -o $@ $<

# C for the protobuf exposition format (exporter/metrics.proto) and the remote read messages
# (evaluator/prompb.proto), generated at build time. Every object may include the generated
# headers, so they are made before any of them; the generated code is compiled without the
# pedantic warnings it was not written for.
$(BUILD)/gen/metrics.pb-c.c $(BUILD)/gen/metrics.pb-c.h &: exporter/metrics.proto
	@mkdir -p $(@D)
	protoc-c --c_out=$(@D) -Iexporter $<

$(BUILD)/gen/prompb.pb-c.c $(BUILD)/gen/prompb.pb-c.h &: evaluator/prompb.proto
	@mkdir -p $(@D)
	protoc-c --c_out=$(@D) -Ievaluator $<

$(BUILD)/gen/%.pb-c.o: $(BUILD)/gen/%.pb-c.c
	$(CC) $(ALLFLAGS) -Wno-pedantic -Wno-conversion -Wno-missing-prototypes -c -o $@ $<

$(LIB_OBJ) $(MAIN_OBJ) $(TEST_OBJ) $(BUILD)/tests/integration/evaldriver.o \
    $(BUILD)/tests/bench/bench_render.o: \
    | $(BUILD)/gen/metrics.pb-c.h $(BUILD)/gen/prompb.pb-c.h

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/tests/integration/evaldriver.d \
    $(BUILD)/tests/bench/bench_render.d $(BUILD)/tests/bench/bench_read.d

# The tests find the binary under test through SLOE_BIN.
check-unit: $(BIN)/sloe $(BUILD)/sloe-tests
	SLOE_BIN=$(BIN)/sloe $(BUILD)/sloe-tests

# Integration tests: a real Prometheus over a backfilled TSDB (Python, standard library).
check-integration: $(BIN)/sloe $(BUILD)/evaldriver
	SLOE_BIN=$(BIN)/sloe EVALDRIVER=$(BUILD)/evaldriver python3 tests/integration/test_promlab.py
	SLOE_BIN=$(BIN)/sloe EVALDRIVER=$(BUILD)/evaldriver python3 tests/integration/test_eval.py
	SLOE_BIN=$(BIN)/sloe python3 tests/integration/test_serve.py
	SLOE_BIN=$(BIN)/sloe python3 tests/integration/test_faults.py
	SLOE_BIN=$(BIN)/sloe python3 tests/integration/test_dashboards.py
	SLOE_BIN=$(BIN)/sloe python3 tests/integration/test_report.py
	SLOE_BIN=$(BIN)/sloe python3 tests/integration/test_alerts.py
	SLOE_BIN=$(BIN)/sloe python3 tests/integration/test_docker.py
	SLOE_BIN=$(BIN)/sloe python3 tests/integration/test_e2e.py
	SLOE_BIN=$(BIN)/sloe EVALDRIVER=$(BUILD)/evaldriver python3 tests/integration/test_vm.py
	SLOE_BIN=$(BIN)/sloe EVALDRIVER=$(BUILD)/evaldriver python3 tests/integration/test_remote_read.py

SANFLAGS := BUILD=build/asan BIN=build/asan/bin CFLAGS="-O1 -g" \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

check-asan:
	$(MAKE) --no-print-directory $(SANFLAGS) check-unit

check-asan-integration:
	$(MAKE) --no-print-directory $(SANFLAGS) check-integration

# sloe serve under ThreadSanitizer: scrapes, reloads and SIGHUP at once (test_serve.py --tsan).
TSANFLAGS := BUILD=build/tsan BIN=build/tsan/bin CFLAGS="-O1 -g" SAN="-fsanitize=thread"

check-tsan-serve:
	$(MAKE) --no-print-directory $(TSANFLAGS) build/tsan/bin/sloe
	TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 history_size=7" \
	    SLOE_BIN=build/tsan/bin/sloe python3 tests/integration/test_serve.py --tsan

# valgrind memcheck on the unit tests, the evaluator's and the fault test's sloe (and
# evaldriver) processes: fails on any memory error or definite or indirect leak.
check-valgrind: $(BIN)/sloe $(BUILD)/sloe-tests $(BUILD)/evaldriver
	tests/valgrind/run.sh $(BIN)/sloe $(BUILD)/sloe-tests $(BUILD)/evaldriver

test: deps
	$(MAKE) --no-print-directory format-check
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10
	$(MAKE) --no-print-directory check-unit
	$(MAKE) --no-print-directory check-integration
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(MAKE) --no-print-directory check-asan
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(MAKE) --no-print-directory check-asan-integration
	$(MAKE) --no-print-directory check-tsan-serve
	$(MAKE) --no-print-directory check-valgrind

# Debian packages: build (compiler, libraries), tests and fuzzing (clang, libFuzzer
# runtime), and what the evaluator's tests and the demo run (Prometheus, Alertmanager,
# VictoriaMetrics as a second query engine).
DEB_PKGS := build-essential pkg-config libyaml-dev libcurl4-openssl-dev libmicrohttpd-dev \
            libprotobuf-c-dev protobuf-c-compiler zlib1g-dev libjansson-dev clang libclang-rt-14-dev \
            clang-format tzdata groff-base python3 openssl chromium fonts-dejavu-core \
            prometheus prometheus-alertmanager victoria-metrics valgrind libsnappy-dev faketime

deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	    | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "make deps: installing $$missing"; \
	    if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root (apt-get) or install: $$missing" >&2; exit 1; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# libFuzzer targets, built with clang, ASan and UBSan.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS    = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -g -O1 -Irules -Ievaluator -Iexporter \
                -I$(BUILD)/gen \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                $(shell pkg-config --cflags $(PKGS))

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(GEN_SRC)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LIBS)

fuzz: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(BUILD)/fuzz/corpus-$$t; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	    $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=1024 -timeout=10 \
	        -dict=tests/fuzz/$$t.dict -artifact_prefix=$(BUILD)/fuzz/ \
	        $(BUILD)/fuzz/corpus-$$t tests/fuzz/corpus-$$t || exit 1; \
	done

# The soak (not in make test): 50 scrapes a second, an evaluation every 5 s and a reload every
# minute against a real Prometheus for SOAK_SECONDS; fails when RSS or open fds grow.
SOAK_SECONDS ?= 1800

soak: $(BIN)/sloe
	SOAK_SECONDS=$(SOAK_SECONDS) SLOE_BIN=$(BIN)/sloe python3 tests/integration/soak.py

format-check:
	@clang-format --dry-run --Werror $(LIB_SRC) $(MAIN_SRC) $(TEST_SRC) $(FUZZ_TARGETS:%=tests/fuzz/%.c) \
	    $(wildcard rules/*.h evaluator/*.h exporter/*.h tests/unit/*.h) && echo "format-check: OK"

# The local demo: 30 days of history, Prometheus, Alertmanager, a workload and sloe serve on
# loopback; Ctrl-C stops it all (docker/demo.sh runs make deps and make first).
demo:
	docker/demo.sh

clean:
	rm -rf build bin

.PHONY: all bench test check-unit check-integration check-asan check-asan-integration \
        check-tsan-serve check-valgrind deps fuzz soak format-check clean demo
