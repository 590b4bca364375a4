# golden: excludes=*.log,!keep.log,target
FROM busybox
COPY . /ctx
COPY extra.txt /extra
