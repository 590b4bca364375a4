# golden: build-arg:A=over build-arg:B=given build-arg:C=set-by-build-arg
FROM busybox
ARG A=1 B
ARG C=$A
RUN echo "$A $B $C"
