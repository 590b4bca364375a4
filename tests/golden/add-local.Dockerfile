FROM busybox
ADD rootfs.tar.gz /
ADD --chown=app:app file.txt /added-owned
ADD dir /added-dir/
