FROM busybox
HEALTHCHECK --interval=1s --timeout=2s --retries=5 CMD ["true"]
RUN true
