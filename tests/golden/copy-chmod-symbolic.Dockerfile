# golden: cap=file.copy.modestring
FROM busybox
COPY --chmod=u+x,go-w run.sh /usr/local/bin/
COPY --chmod=a=rX <<EOF /etc/motd
hello
EOF
ADD --chmod=go-rwx http://example.com/key /key
