FROM busybox
CMD ["--help"]
ENTRYPOINT ["/app", "-v"]
