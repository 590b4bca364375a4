FROM busybox
ENV A=old
ENV A=new B=$A
RUN echo "$A $B"
