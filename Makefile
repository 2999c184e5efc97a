# Coffre: the few commands a developer needs. `make run` and `make test` do everything else.
.PHONY: deps configure build run test clean format

BUILD_DIR := build
DATA_DIR ?= ./coffre-data
PORT ?= 8443
HTTP_PORT ?= 8080

deps:
	bash scripts/deps.sh

configure:
	cmake --preset default

build: configure
	cmake --build --preset default

run: deps build
	$(BUILD_DIR)/coffre server --dev --data-dir $(DATA_DIR) --port $(PORT) --http-port $(HTTP_PORT)

test: deps build
	ctest --preset default -j2

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR)
