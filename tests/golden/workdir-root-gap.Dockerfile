FROM busybox
WORKDIR /
RUN echo after
