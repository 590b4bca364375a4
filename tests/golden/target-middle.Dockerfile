# golden: target=Build
FROM busybox AS base
RUN echo base > /base

FROM base AS build
RUN echo build > /build

FROM scratch AS release
COPY --from=build /build /build
