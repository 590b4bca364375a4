FROM busybox
ADD https://github.com/moby/buildkit.git#v0.8.3 /src/
ADD --keep-git-dir=true git@github.com:o/r.git /r
ADD --chown=app --chmod=750 https://github.com/o/r.git?branch=dev /b/
COPY local.txt /
