FROM busybox
COPY --chmod=17777 a /a
