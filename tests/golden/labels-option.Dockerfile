# golden: label:org.opencontainers.image.title=golden label:a=from-option
FROM busybox AS first
LABEL only=first
FROM busybox
LABEL a=from-dockerfile b=kept
