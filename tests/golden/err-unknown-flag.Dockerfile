FROM busybox
COPY --foo=x a b
