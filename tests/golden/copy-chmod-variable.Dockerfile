# --chmod is expanded as in dockerfile 1.26 (1.18 took `$M` literally and failed).
FROM busybox
ENV M=600
COPY --chmod=$M key /key
