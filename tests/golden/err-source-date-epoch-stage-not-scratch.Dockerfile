ARG SOURCE_DATE_EPOCH=src
FROM busybox AS src
ADD https://example.com/src.tar /
FROM busybox
RUN true
