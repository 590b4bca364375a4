FROM busybox
RUN echo zero > /zero

FROM busybox AS second
RUN echo one > /one

FROM scratch
COPY --from=0 /zero /zero
COPY --from=1 /one /one
