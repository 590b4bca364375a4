FROM busybox
COPY *.go go.mod /src/
COPY ?.md docs/**/*.md /docs/
