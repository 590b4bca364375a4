FROM scratch
COPY --from=busybox /bin/busybox /bin/busybox
COPY --from=alpine:3.19 /etc/passwd /etc/group /etc/
