# golden: cap=source.git.subdir cap=source.git.checksum cap=source.git.skipsubmodules
FROM busybox
ADD https://github.com/moby/buildkit.git#v0.14.1:docs /docs
ADD --checksum=782b6d8 https://github.com/o/r.git?tag=v1&subdir=sub&submodules=false /sub
ADD --keep-git-dir https://git.example.com/plain#main /plain
