# golden: platform=linux/arm64
FROM --platform=linux/amd64 busybox AS base
RUN uname -m > /arch

FROM --platform=linux/s390x base
RUN cat /arch
