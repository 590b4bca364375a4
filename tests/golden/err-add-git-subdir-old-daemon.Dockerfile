FROM busybox
ADD https://github.com/o/r.git#main:docs /docs
