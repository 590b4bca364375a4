FROM busybox
ENV NAME=world
COPY <<EOT /expanded.txt
hello ${NAME}
EOT
COPY <<"EOT" /literal.txt
hello ${NAME}
EOT
COPY --chmod=755 <<EOT a.txt /mixed/
#!/bin/sh
echo $NAME
EOT
