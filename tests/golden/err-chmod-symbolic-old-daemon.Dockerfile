FROM busybox
COPY --chmod=u+x run.sh /run.sh
