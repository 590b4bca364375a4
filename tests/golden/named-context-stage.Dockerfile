# golden: context:build=local:prebuilt sharedkey:localdir:build=k1 context:tools::linux/amd64=https://example.com/tools.tar context:src=https://github.com/o/r.git#v1
FROM busybox AS build
RUN exit 1
FROM build AS reuse
RUN ls /
FROM busybox
COPY --from=reuse /out /out
COPY --from=tools /context /tools.tar
COPY --from=src / /src
