ARG SOURCE_DATE_EPOCH=src
FROM scratch AS src
COPY a /a
FROM busybox
RUN true
