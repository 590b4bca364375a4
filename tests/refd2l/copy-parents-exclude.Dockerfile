FROM busybox
COPY --parents --exclude=*.md ./src/**/*.go /out/
COPY --parents a/b/c.txt /x/
