# golden: hostname=golden-host
FROM busybox
RUN hostname
