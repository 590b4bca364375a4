FROM busybox
SHELL ["/bin/bash", "-eo", "pipefail", "-c"]
RUN echo a | cat
CMD echo cmd
ENTRYPOINT echo entry
