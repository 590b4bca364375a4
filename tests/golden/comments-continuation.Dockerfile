FROM busybox
# a comment
RUN echo a \
# comment inside continuation
    b \
    c
LABEL multi=line \
      second=pair
