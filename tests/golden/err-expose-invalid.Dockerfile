FROM busybox
EXPOSE http
