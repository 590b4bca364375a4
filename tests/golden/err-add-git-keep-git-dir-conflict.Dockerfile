FROM busybox
ADD --keep-git-dir=false https://github.com/o/r.git?keep-git-dir=true /r
