FROM busybox
COPY --from=5 /a /a
