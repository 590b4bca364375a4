FROM busybox
ENV V=/vol
VOLUME /a /b
VOLUME ["/c", "/d"]
VOLUME $V
