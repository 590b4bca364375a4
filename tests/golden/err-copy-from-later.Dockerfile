FROM busybox
COPY --from=later /a /a
FROM busybox AS later
