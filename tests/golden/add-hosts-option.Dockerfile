# golden: add-hosts=db=10.0.0.5,ipv6=::1
FROM busybox
RUN getent hosts db
