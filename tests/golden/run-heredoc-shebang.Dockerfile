FROM busybox
RUN <<EOT
#!/bin/sh
echo from script
echo two
EOT
