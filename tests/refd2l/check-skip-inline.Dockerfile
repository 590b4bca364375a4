FROM busybox
# check=skip=JSONArgsRecommended
CMD echo hi
