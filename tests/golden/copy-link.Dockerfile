# golden: cap=mergeop
FROM busybox AS build
RUN echo hi > /out
FROM busybox
WORKDIR /app
COPY --link --chown=1000:1000 a.txt b.txt ./
COPY --link --from=build /out /bin/out
ADD --link https://example.com/x.tar.gz /dl/
COPY --link --chmod=755 run.sh /run.sh
