"""The 16 small projects of the load test: each a Dockerfile (without a `# syntax` line) and its
context files, all different (stage layout, instructions, contents), all deterministic so that two
builds of one project give the same files whatever the build order or the other builds running.

Projects 0..7 are the "tenants" of the many-tenants check: each uses a cache mount whose id is the
same in every tenant, namespaced by the build argument BUILDKIT_CACHE_MOUNT_NS.
"""

from __future__ import annotations

import re
from pathlib import Path

TENANTS = 8
COUNT = 16

# A cache mount every tenant uses with the same id, placed by each template where a RUN runs as
# root. /cache-seen lists the cache: with namespaces only the tenant's own file, in every build;
# without them the other tenants' files too, which differ between serial and concurrent builds.
TENANT_CACHE = (
    "RUN --mount=type=cache,id=tenant-cache,target=/var/cache/build,sharing=locked \\\n"
    "    echo {i} > /var/cache/build/t{i} && ls /var/cache/build > /cache-seen\n"
)


def single(i: int, tenant: str) -> tuple[str, dict[str, str]]:
    df = f"""\
FROM busybox
ENV PROJECT=p{i} LEVEL={i * 3}
WORKDIR /app
COPY src/ ./src/
{tenant}RUN sha256sum src/* > sums && seq 1 {200 + i} | md5sum > seq.md5
LABEL project=p{i} kind=single
CMD ["sh", "-c", "cat /app/sums"]
"""
    return df, {"src/a.txt": f"alpha {i}\n", "src/b.txt": f"beta {i * i}\n"}


def multi(i: int, tenant: str) -> tuple[str, dict[str, str]]:
    df = f"""\
FROM busybox AS left
RUN mkdir /out && echo left-{i} > /out/left && seq 1 {i + 5} > /out/numbers
{tenant}
FROM busybox AS right
COPY data.txt /in/
RUN mkdir /out && tr a-z A-Z < /in/data.txt > /out/right

FROM busybox AS unused
RUN echo never > /never

FROM scratch
COPY --from=left /out/ /
COPY --from=right /out/right /right.txt
ENTRYPOINT ["/left"]
"""
    return df, {"data.txt": f"multi stage project {i}\n"}


def user(i: int, tenant: str) -> tuple[str, dict[str, str]]:
    df = f"""\
FROM busybox
RUN mkdir -p /home/app && chown 1000:1000 /home/app
USER app
WORKDIR /home/app
COPY --chown=app:app conf.ini ./
RUN id -u > uid && cp conf.ini conf.copy && chmod 0640 conf.copy
USER root
RUN chmod 0750 /home/app
{tenant}USER 1000:1000
EXPOSE {8000 + i}/tcp
"""
    return df, {"conf.ini": f"[project]\nname=p{i}\n"}


def args(i: int, tenant: str) -> tuple[str, dict[str, str]]:
    df = f"""\
ARG BASE=busybox
FROM ${{BASE}}
ARG VERSION={i}.0
ARG FLAVOUR=plain
ENV VERSION=${{VERSION}}
RUN echo "${{VERSION}}-${{FLAVOUR}}" > /version
{tenant}STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s CMD ["cat", "/version"]
ENTRYPOINT ["cat"]
CMD ["/version"]
"""
    return df, {}


def mounts(i: int, tenant: str) -> tuple[str, dict[str, str]]:
    df = f"""\
FROM busybox AS gen
RUN mkdir /gen && for n in $(seq 1 {3 + i % 4}); do echo "file $n of p{i}" > /gen/f$n; done

FROM busybox
RUN --mount=type=bind,from=gen,source=/gen,target=/in \\
    mkdir /copied && cp /in/* /copied/ && ls /in > /listing
RUN --mount=type=tmpfs,target=/scratch echo tmp > /scratch/x && cat /scratch/x > /tmpfs-ok
RUN --mount=type=bind,source=inputs,target=/ctx cat /ctx/* > /ctx-cat
{tenant}"""
    return df, {"inputs/one": f"one {i}\n", "inputs/two": f"two {i}\n"}


def links(i: int, tenant: str) -> tuple[str, dict[str, str]]:
    df = f"""\
FROM busybox
RUN mkdir -p /data/keep /data/drop && echo {i} > /data/keep/v && echo x > /data/drop/x
RUN ln -s /data/keep/v /v-link && ln /data/keep/v /v-hard && rm -r /data/drop
{tenant}COPY --chmod=0755 tool.sh /usr/local/bin/tool
VOLUME ["/data"]
"""
    return df, {"tool.sh": f"#!/bin/sh\necho tool {i}\n"}


def wildcards(i: int, tenant: str) -> tuple[str, dict[str, str]]:
    df = f"""\
FROM busybox
COPY *.conf /etc/proj/
COPY nested/ /nested/
ADD archive.txt /opt/
SHELL ["/bin/sh", "-e", "-c"]
RUN ls -R /etc/proj /nested /opt > /tree
{tenant}"""
    files = {f"c{n}.conf": f"conf {n} of {i}\n" for n in range(1 + i % 3)}
    files.update({"nested/deep/x": f"x{i}\n", "archive.txt": f"archive {i}\n",
                  "ignored.log": "not copied\n", ".dockerignore": "*.log\n"})
    return df, files


def targeted(i: int, tenant: str) -> tuple[str, dict[str, str]]:
    df = f"""\
FROM busybox AS base
RUN echo base-{i} > /base

FROM base AS test
RUN echo tested > /tested

FROM base AS release
COPY --from=base /base /release-base
RUN cat /base /release-base > /both
{tenant}
FROM release
LABEL stage=final
"""
    return df, {}


TEMPLATES = [single, multi, user, args, mounts, links, wildcards, targeted]


def write(root: Path, i: int) -> Path:
    """Writes project i under root/p<i>/ and returns its directory."""
    tenant = TENANT_CACHE.format(i=i) if i < TENANTS else ""
    df, files = TEMPLATES[i % len(TEMPLATES)](i, tenant)
    # Every stage declares LOAD_NONCE, so a new value runs every RUN again without --no-cache,
    # which would also give each RUN a fresh, empty cache mount (BuildKit ignores cache mounts
    # then) and so hide whether namespaces keep tenants apart.
    df = re.sub(r"^(FROM .*\n)", r"\1ARG LOAD_NONCE\n", df, flags=re.M)
    d = root / f"p{i:02}"
    d.mkdir(parents=True, exist_ok=True)
    (d / "Dockerfile").write_text(df)
    for name, text in files.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(text)
    return d


def build_args(i: int, run: str, side: str) -> list[str]:
    """`docker build` flags of project i: a new LOAD_NONCE runs every RUN again (one per run and
    side), and each tenant's cache namespace is new in every run but shared by its sides."""
    nonce = f"{run}-{side}"
    out = ["--build-arg", f"LOAD_NONCE={nonce}"]
    if TEMPLATES[i % len(TEMPLATES)] is args:
        out += ["--build-arg", f"FLAVOUR=f{i}"]
    if TEMPLATES[i % len(TEMPLATES)] is targeted and i >= len(TEMPLATES):
        out += ["--target", "release"]
    if i < TENANTS:
        out += ["--build-arg", f"BUILDKIT_CACHE_MOUNT_NS=tenant-{i}-{run}"]
    return out


# The multi-stage Dockerfile of the cached-rebuild loop: four stages, two of them independent.
REBUILD_DOCKERFILE = """\
FROM busybox AS deps
ARG NONCE
RUN echo "RUN-EXECUTED deps $NONCE" && mkdir /deps && seq 1 500 > /deps/list

FROM busybox AS assets
ARG NONCE
COPY assets/ /assets/
RUN echo "RUN-EXECUTED assets $NONCE" && sha256sum /assets/* > /assets.sum

FROM deps AS build
ARG NONCE
COPY --from=assets /assets.sum /deps/
RUN echo "RUN-EXECUTED build $NONCE" && cat /deps/* | md5sum > /build.md5

FROM scratch
COPY --from=build /build.md5 /deps/list /
COPY --from=assets /assets /assets
CMD ["/build.md5"]
"""
REBUILD_FILES = {"assets/a.css": "body{}\n", "assets/b.js": "let b = 1;\n"}
