FROM busybox
ENV U=builder
COPY --chown=app:app a /a
COPY --chown=1000 b /b
COPY --chown=1000:1000 c /c
COPY --chown=root:staff d /d
COPY --chown=$U:0 e /e
