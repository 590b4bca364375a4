# golden: memory=1073741824 cpushares=512 cpusetcpus=0-1 cap=exec.meta.linux.resources
FROM busybox
RUN make
COPY a /a
