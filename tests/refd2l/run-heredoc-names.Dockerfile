FROM busybox
ARG NAME=world
RUN <<EOT
echo hello $NAME
EOT
RUN cat <<EOT > /greeting
hi ${NAME}
EOT
