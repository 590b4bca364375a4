# golden: shm-size=67108864 ulimit=nofile=1024:2048 cap=exec.mount.tmpfs.size cap=exec.meta.ulimit
FROM busybox
RUN df -h /dev/shm && ulimit -n
