# golden: shm-size=67108864
FROM busybox
RUN df -h /dev/shm
