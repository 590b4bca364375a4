FROM busybox
ARG SRC=build
COPY --from=$SRC /a /a
