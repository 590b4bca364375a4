# golden: no-cache=
FROM busybox AS a
WORKDIR /w
RUN echo a > /a
FROM busybox
COPY --from=a /a /a
RUN cat /a
