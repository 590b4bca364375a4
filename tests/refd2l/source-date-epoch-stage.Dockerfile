ARG SOURCE_DATE_EPOCH=src
FROM scratch AS src
ARG URL=https://example.com/src.tar
ADD $URL /
FROM busybox
ARG SOURCE_DATE_EPOCH
RUN echo "${SOURCE_DATE_EPOCH:-unset}"
WORKDIR /x
