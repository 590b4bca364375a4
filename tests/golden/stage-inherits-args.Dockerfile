FROM busybox AS base
ARG A=1
ENV E=base
FROM base
ARG B=2
RUN echo $A $B
