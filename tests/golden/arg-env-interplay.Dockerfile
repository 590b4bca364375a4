FROM busybox
ARG X=from-arg
ENV X=from-env
RUN echo $X
ARG Y=y-arg
ENV Y=y-env
ARG Y
RUN echo $Y
