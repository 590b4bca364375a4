FROM busybox
RUN echo a && \
    echo b
COPY --chmod=99 \
     a /a
