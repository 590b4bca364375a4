# golden: context:alpine=docker-image://busybox:1.36 context:debian:12=docker-image://scratch
FROM alpine
COPY --from=debian:12 /etc/os-release /debian-os-release
RUN --mount=from=alpine,target=/a ls /a
