FROM busybox
COPY --parents a/*.txt /dst/
