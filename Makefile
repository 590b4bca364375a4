# stager: build, image, demo, tests.  `make test` works on a fresh clone: it installs and starts
# Docker (Debian's docker.io, BuildKit v0.8) and makes the offline busybox base image itself.
#
#   make static   static release binary: target/$(TRIPLE)/release/stager
#   make deps     docker.io + busybox-static installed, dockerd running, busybox:latest imported
#   make image    the frontend image $(IMAGE) from the host-built binary (pulls nothing)
#   make demo     build examples/multistage through the frontend, show the result
#   make test     cargo test, then the end-to-end comparison with Docker's built-in frontend,
#                 on Docker 20.10, on Docker 28.5 beside it (also against the official 1.26
#                 frontend image) and on a standalone buildkitd v0.32.2 over mutual TLS
#   make e2e      only the end-to-end cases (E2E_FRONTEND=builtin checks the harness itself;
#                 CASES="a b" runs some)
#   make e2e-current  the suite, build checks, multi-platform and LLB comparison on Docker 28.5
#   make e2e-buildkit the suite, concurrency, cache round trip, reproducible images, buildx drivers
#                 and multi-platform on a standalone buildkitd v0.32.2 over mutual TLS
#                 (skipped without ../shared)
#   make e2e-impact `stager impact` predictions checked against real rebuilds
#   make e2e-load 16 concurrent builds, 8 tenants, 100 cached rebuilds on one daemon
#   make e2e-image the frontend image holds one static binary and nothing else
#   make bench    benchmarks: criterion (parse + convert, every input shape from 1k to 40k
#                 lines), the official converter on the same files (refd2l from
#                 ../shared/tools/buildkit, skipped loudly without it), then builds against
#                 the built-in frontend, sizes, start-up and memory (scripts/bench-build.py),
#                 then the gateway round trip: cached rebuilds through stager's image against
#                 the official 1.26 image, interleaved, on Docker 20.10 and buildkitd v0.32.2,
#                 with stager's per-RPC timings (scripts/bench-gateway.py; skipped loudly
#                 without ../shared)

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
	bash tests/scripts/debian-mirror.sh
	@# cargo hides a passing test's output, so say here what tests/refd2l.rs could not compare.
	@test -f $(SHARED)/tools/buildkit/install.sh || echo "unit: SKIPPED: the comparison of stager llb with the official converter (tests/refd2l.rs): no $(SHARED)/tools/buildkit"

# Cases with a `parallel` file need BuildKit's progress as JSON, which 20.10's classic client
# cannot print: they are built with the current Docker's client and buildx on the same daemon
# when e2e-current has unpacked it (make test runs e2e-current first), else not checked.
e2e: deps image
	E2E_RAWJSON_DOCKER=$$( [ -x $(CURRENT_ROOT)/docker-default ] && echo $(CURRENT_ROOT)/docker-default || true ) \
	  python3 tests/e2e/run.py $(CASES)

test: unit e2e-current e2e e2e-image e2e-impact e2e-cache e2e-buildkit e2e-load

BENCH_RUNS ?= 5
# Rounds of the interleaved gateway comparison (each round: stager, official, built-in).
GATEWAY_RUNS ?= 15
# The BuildKit reference tools (refd2l: the official dockerfile2llb, offline), beside the repo.
REF_TOOLS ?= $(abspath $(CURDIR)/../shared/tools/buildkit)

bench: deps image
	cargo bench --bench convert
	python3 scripts/bench-report.py --shapes-svg target/bench-shapes.svg --reference $(REF_TOOLS)
	IMAGE=$(IMAGE) RUNS=$(BENCH_RUNS) BIN=$(STATIC_BIN) python3 scripts/bench-build.py
	IMAGE=$(IMAGE) RUNS=$(GATEWAY_RUNS) SHARED=$(abspath $(CURDIR)/../shared) python3 scripts/bench-gateway.py

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

# The same end-to-end suite on today's Docker, and what only it shows (build-check warnings
# through buildx, --print=lint, the LLB comparison): Debian sid's Docker 28.5 (BuildKit v0.25,
# buildx 0.29, containerd 2.1) unpacked under $(CURRENT_ROOT) and started beside 20.10 by
# scripts/setup-docker-current.sh. With ../shared the suite runs a second time against the
# official 1.26 frontend image on the same daemon.
CURRENT_ROOT ?= /opt/stager-docker-current
OFFICIAL ?= official/dockerfile:1.26.0
SHARED ?= $(abspath ..)/shared
.PHONY: e2e-current
e2e-current: deps image
	ROOT=$(CURRENT_ROOT) IMAGE=$(IMAGE) OFFICIAL=$(OFFICIAL) SHARED=$(SHARED) bash scripts/setup-docker-current.sh
	DOCKER=$(CURRENT_ROOT)/docker E2E_TAG_PREFIX=stager-e2e-current E2E_OUT=.e2e/current \
	  python3 tests/e2e/run.py $(CASES)
	if [ -d $(SHARED)/tools/buildkit ]; then \
	  DOCKER=$(CURRENT_ROOT)/docker E2E_TAG_PREFIX=stager-e2e-official E2E_OUT=.e2e/official \
	    E2E_REFERENCE=$(OFFICIAL) python3 tests/e2e/run.py $(CASES); \
	else echo "e2e-current: the comparison with the official 1.26 frontend image is SKIPPED: no $(SHARED)/tools/buildkit"; fi
	DOCKER_CURRENT=$(CURRENT_ROOT)/docker python3 tests/e2e/current/run.py
	if [ -d $(SHARED)/tools/buildkit ]; then \
	  echo "e2e-current: the same build checks through the official 1.26 frontend (are they what it does?)"; \
	  DOCKER_CURRENT=$(CURRENT_ROOT)/docker E2E_IMAGE=$(OFFICIAL) python3 tests/e2e/current/run.py; fi
	DOCKER_CURRENT=$(CURRENT_ROOT)/docker PLATFORMS_ROOT=$(PLATFORMS_ROOT) python3 tests/e2e/current/platforms.py
	DOCKER_CURRENT=$(CURRENT_ROOT)/docker python3 tests/e2e/current/llb_compare.py
	if [ -d $(SHARED)/tools/buildkit ]; then \
	  DOCKER_CURRENT=$(CURRENT_ROOT)/docker E2E_REFERENCE=$(OFFICIAL) python3 tests/e2e/current/llb_compare.py; \
	  DOCKER_CURRENT=$(CURRENT_ROOT)/docker E2E_REFERENCE=$(OFFICIAL) python3 tests/e2e/current/convertllb_compare.py; \
	else echo "e2e-current: the LLB and convertllb comparisons with the official 1.26 frontend image are SKIPPED: no $(SHARED)/tools/buildkit"; fi
	CORPUS=conformance DOCKER_CURRENT=$(CURRENT_ROOT)/docker python3 tests/e2e/current/llb_compare.py
	DOCKER_CURRENT=$(CURRENT_ROOT)/docker python3 tests/e2e/current/remote.py
	if [ -d $(SHARED)/tools/buildkit ]; then \
	  DOCKER_CURRENT=$(CURRENT_ROOT)/docker E2E_REFERENCE=$(OFFICIAL) python3 tests/e2e/current/remote.py; fi

# stager on a standalone buildkitd v0.32.2 (../shared/tools/buildkit) over mutual TLS, as shared
# CI builders run it (tests/e2e/buildkit/run.py): the e2e suite against its built-in
# dockerfile.v0 (1.26), a dozen builds at once through two clients, the registry and local cache
# round trip onto a second, empty buildkitd, multi-platform builds, buildx's remote and
# docker-container drivers (with the current Docker's buildx). Skipped (exit 0) without ../shared.
BUILDKITD_ROOT ?= /opt/stager-buildkitd
PLATFORMS_ROOT ?= /opt/stager-platforms
.PHONY: e2e-buildkit
e2e-buildkit: deps image
	ROOT=$(CURRENT_ROOT) IMAGE=$(IMAGE) OFFICIAL=$(OFFICIAL) SHARED=$(SHARED) bash scripts/setup-docker-current.sh
	SHARED=$(SHARED) CURRENT_ROOT=$(CURRENT_ROOT) BUILDKITD_ROOT=$(BUILDKITD_ROOT) PLATFORMS_ROOT=$(PLATFORMS_ROOT) \
	  python3 tests/e2e/buildkit/run.py

# The LLB comparison over tests/golden and BuildKit's real-world parser test files (several
# minutes; not in `make test`).
.PHONY: llb-compare-corpora
llb-compare-corpora: deps image
	ROOT=$(CURRENT_ROOT) IMAGE=$(IMAGE) bash scripts/setup-docker-current.sh
	CORPUS=golden DOCKER_CURRENT=$(CURRENT_ROOT)/docker python3 tests/e2e/current/llb_compare.py
	CORPUS=conformance DOCKER_CURRENT=$(CURRENT_ROOT)/docker python3 tests/e2e/current/llb_compare.py

# Load and tenants on one daemon (tests/e2e/load/run.py): 16 different projects built at once
# through stager and compared with the built-in frontend, 8 of them also one at a time, cache
# mount namespaces, and 100 cached rebuilds in a row (time and the frontend's peak RSS must not
# grow). 2.5 minutes on a quiet machine, nearer 4 when other builds load it.
.PHONY: e2e-load
e2e-load: deps image
	python3 tests/e2e/load/run.py

# The frontend image: exactly one file, the entrypoint, a static ELF (scripts/check-frontend-image.py).
.PHONY: e2e-image
e2e-image: deps image
	python3 scripts/check-frontend-image.py $(IMAGE)

# `stager impact` against BuildKit (tests/e2e/impact/run.py): each scenario builds a project,
# changes it, predicts every step's verdict, rebuilds with --progress=plain and compares
# (SCENARIOS="a b" runs some). Under a minute on Docker 20.10.
.PHONY: e2e-impact
e2e-impact: deps image
	STAGER_BIN=$(STATIC_BIN) python3 tests/e2e/impact/run.py $(SCENARIOS)
