FROM busybox
COPY --chmod=755 run.sh /usr/local/bin/run
COPY --chown=app --chmod=0640 secret /etc/secret
