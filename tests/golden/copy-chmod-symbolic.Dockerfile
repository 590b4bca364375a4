# golden: cap=file.copy.modestring
FROM busybox
COPY --chmod=u+x,go-w run.sh /usr/local/bin/
ARG M=a=rX
COPY --chmod=$M <<EOF /etc/motd
hello
EOF
ADD --chmod=go-rwx http://example.com/key /key
