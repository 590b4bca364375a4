FROM busybox
ADD https://github.com/o/r.git?tag=a&branch=b /r
