FROM busybox
ARG A=1 B
ARG C=${A}-x
RUN echo "$A $B $C"
ARG A=2
RUN echo "$A"
