FROM busybox
ARG MODE=u+x,go-w
COPY --chmod=${MODE} a /a
ARG OCT=0755
COPY --chmod=$OCT b /b
