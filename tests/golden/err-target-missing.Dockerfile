# golden: target=biuld
FROM busybox AS build
FROM busybox AS release
