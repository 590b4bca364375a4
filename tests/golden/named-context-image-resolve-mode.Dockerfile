# golden: image-resolve-mode=local context:base=docker-image://busybox:latest
# The named context's image source has no image.resolvemode (1.26); the FROM image keeps it.
FROM base
COPY --from=alpine /etc/os-release /os
