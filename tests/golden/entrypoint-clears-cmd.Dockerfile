FROM busybox AS base
CMD ["base-cmd"]
FROM base
ENTRYPOINT ["/entry"]
