FROM busybox
RUN echo "hello $HOME" '$UNSET' && \
    echo second line
RUN ["echo", "exec", "form"]
run lower case keyword
RUN echo hi # not a comment
