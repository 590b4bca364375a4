FROM busybox
COPY https://example.com/file /file
