FROM busybox
ENTRYPOINT /entry.sh
CMD run now
