FROM busybox
RUN --mount=type=cache,target=/root/.cache echo hi
