FROM busybox AS base
ONBUILD RUN <<EOT
echo from onbuild
EOT
FROM base
RUN true
