FROM busybox
ENV foo
