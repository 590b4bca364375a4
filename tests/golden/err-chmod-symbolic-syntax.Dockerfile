# golden: cap=file.copy.modestring
FROM busybox
COPY --chmod=u+q run.sh /run.sh
