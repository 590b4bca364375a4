# golden: filename=build.Dockerfile contextkey=src
FROM busybox
COPY a /a
