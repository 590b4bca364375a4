# The stager frontend image: one static binary in an otherwise empty image.
#
# Where the binary comes from is chosen with BINARY_SOURCE:
#   builder (default)  compile it here, in rust:1-alpine (musl, static); needs a registry.
#   host               take target/<triple>/release/stager that `make static` built on the host;
#                      pulls nothing (the builder stage is never reached, so its base image is
#                      not even resolved). This is what `make image` does.
#
#   docker build -f frontend.Dockerfile -t myorg/frontend .
#   docker build -f frontend.Dockerfile --build-arg BINARY_SOURCE=host -t myorg/frontend .

ARG BINARY_SOURCE=builder

FROM rust:1-alpine AS builder
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
 && cp target/release/stager /stager

FROM scratch AS host
ARG TARGET_TRIPLE=x86_64-unknown-linux-gnu
COPY target/${TARGET_TRIPLE}/release/stager /stager

FROM ${BINARY_SOURCE} AS binary

FROM scratch
LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts,moby.buildkit.frontend.gitquerystring"
COPY --from=binary /stager /bin/stager
ENTRYPOINT ["/bin/stager"]
