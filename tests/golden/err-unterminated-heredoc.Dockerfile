FROM busybox
RUN <<EOT
echo never ends
