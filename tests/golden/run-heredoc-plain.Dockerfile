FROM busybox
RUN <<EOT
echo one > /one
echo two > /two
EOT
RUN <<EOT
echo single
EOT
