# stager: build, image, demo, tests.  `make test` works on a fresh clone: it installs and starts
# Docker (Debian's docker.io, BuildKit v0.8) and makes the offline busybox base image itself.
#
#   make static   static release binary: target/$(TRIPLE)/release/stager
#   make deps     docker.io + busybox-static installed, dockerd running, busybox:latest imported
#   make image    the frontend image $(IMAGE) from the host-built binary (pulls nothing)
#   make demo     build examples/multistage through the frontend, show the result
#   make test     cargo test, then the end-to-end comparison with Docker's built-in frontend
#   make e2e      only the end-to-end cases (E2E_FRONTEND=builtin checks the harness itself;
#                 CASES="a b" runs some)
#   make bench    benchmarks: criterion (parse + convert), then builds against the built-in
#                 frontend, sizes, start-up and memory (scripts/bench-build.py; BENCH_RUNS=N)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

IMAGE  ?= myorg/frontend
# Debian's 20.10 client: /usr/local/bin/docker may be a newer CLI without buildx, which cannot
# run DOCKER_BUILDKIT=1 builds.
DOCKER ?= /usr/bin/docker
TRIPLE ?= $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
STATIC_BIN := target/$(TRIPLE)/release/stager
CASES  ?=

export DOCKER
export E2E_IMAGE := $(IMAGE)

.PHONY: all static deps image demo test unit e2e bench clean-e2e

all: static

static:
	RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --target $(TRIPLE)

deps:
	bash scripts/setup-docker.sh

image: static deps
	DOCKER_BUILDKIT=1 $(DOCKER) build -f frontend.Dockerfile \
	  --build-arg BINARY_SOURCE=host --build-arg TARGET_TRIPLE=$(TRIPLE) -t $(IMAGE) .

demo: deps image
	bash scripts/demo.sh

unit:
	cargo test --workspace

e2e: deps image
	python3 tests/e2e/run.py $(CASES)

test: unit e2e e2e-cache

BENCH_RUNS ?= 5

bench: deps image
	cargo bench --bench convert
	python3 scripts/bench-report.py
	IMAGE=$(IMAGE) RUNS=$(BENCH_RUNS) BIN=$(STATIC_BIN) python3 scripts/bench-build.py

clean-e2e:
	rm -rf .e2e
	-$(DOCKER) images --format '{{.Repository}}:{{.Tag}}' | grep '^stager-e2e/' | xargs -r $(DOCKER) rmi -f

# Shared-CI-builder checks (tests/e2e/cache/run.py): an inline-cache round trip through the local
# registry on 127.0.0.1:5000, stager against the built-in frontend, and `stager llb` determinism
# across directories, environments and option orders. Prunes the daemon's whole build cache.
.PHONY: e2e-cache
e2e-cache: deps image
	bash scripts/setup-registry.sh
	python3 tests/e2e/cache/run.py
