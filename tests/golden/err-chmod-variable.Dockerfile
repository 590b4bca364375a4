# --chmod is not expanded by BuildKit (only --chown and the paths are), so a variable is not octal.
FROM busybox
ENV M=600
COPY --chmod=$M key /key
