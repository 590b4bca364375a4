FROM busybox AS unused
RUN exit 1

FROM alpine AS deps
RUN echo deps > /deps

FROM golang AS also-unused
COPY --from=unused /x /x

FROM busybox
COPY --from=deps /deps /deps
