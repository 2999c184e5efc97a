# Coffre: the few commands a developer needs. `make run` and `make test` do everything else.
.PHONY: deps configure build run test clean format install deb

BUILD_DIR := build
DATA_DIR ?= ./coffre-data
PORT ?= 8443
HTTP_PORT ?= 8080
PREFIX ?= /usr/local

deps:
	bash scripts/deps.sh

configure:
	cmake --preset default

build: configure
	cmake --build --preset default

run: deps build
	$(BUILD_DIR)/coffre server --dev --data-dir $(DATA_DIR) --port $(PORT) --http-port $(HTTP_PORT)

# The coffre binary to PREFIX/bin, the client library, headers, CMake package and pkg-config file.
install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# Debian packages coffre and coffre-dev (CPack; cmake/packaging.cmake) in build/packages/.
deb: build
	cd $(BUILD_DIR) && cpack -G DEB

test: deps build
	ctest --preset default -j2

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR)

# Throughput/latency against this machine's limits (openssl speed, nginx, disk); writes
# docs/benchmarks.md. Not part of `make test`. Options: see bench/bench.py (BENCH_* variables).
.PHONY: bench
bench:
	bash scripts/deps.sh --bench
	$(MAKE) build
	BENCH_COMMAND="make bench$(if $(BENCH_LARGE), BENCH_LARGE=$(BENCH_LARGE))" /usr/bin/python3 bench/bench.py

# ---- Sanitizers and fuzzing (fuzz/README.md) ------------------------------------------------
# test-sanitize: the unit, integration and fuzz-replay tests against an ASan+UBSan build (g++).
# ASan/LSan reports from any process (test binaries, the server under the Python/JS tests) go
# to build-sanitize/sanitizer-logs; any report fails the target even if its test passed. UBSan
# reports go to stderr and abort the process, which fails its test.
# fuzz: builds the libFuzzer targets (clang++) and runs each for FUZZ_SECONDS.
.PHONY: test-sanitize fuzz fuzz-build
SANITIZE_DIR := build-sanitize
FUZZ_DIR := build-fuzz
FUZZ_SECONDS ?= 60

test-sanitize: deps
	cmake --preset sanitize
	cmake --build --preset sanitize
	rm -rf $(SANITIZE_DIR)/sanitizer-logs && mkdir -p $(SANITIZE_DIR)/sanitizer-logs
	ctest --preset sanitize -j2; rc=$$?; \
	for f in $(SANITIZE_DIR)/sanitizer-logs/*; do \
	  [ -e "$$f" ] || continue; echo "==== sanitizer report $$f"; cat "$$f"; rc=1; \
	done; \
	[ $$rc = 0 ] || echo "test-sanitize: FAILED"; exit $$rc

fuzz-build: deps
	cmake --preset fuzz
	cmake --build --preset fuzz

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run_fuzzers.sh $(FUZZ_DIR)
