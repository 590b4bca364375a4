# golden: build-arg:SOURCE_DATE_EPOCH=not-a-timestamp
FROM busybox
RUN true
