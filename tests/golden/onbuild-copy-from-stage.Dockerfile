FROM busybox AS assets
RUN echo a > /a
FROM busybox AS unrelated
RUN exit 1
FROM busybox AS base
ONBUILD COPY --from=assets /a /a
ONBUILD RUN --mount=from=assets,target=/m cat /m/a
FROM base
RUN cat /a
