# golden: ulimit=nofile=1024:2048
FROM busybox
RUN ulimit -n
