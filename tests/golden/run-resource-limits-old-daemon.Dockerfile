# golden: memory=1073741824
# A daemon without exec.meta.linux.resources runs without the limits, as with 1.26.
FROM busybox
RUN make
