# golden: image-resolve-mode=pull
FROM alpine
COPY --from=busybox /bin/true /true
