FROM busybox
ONBUILD RUN echo triggered
ONBUILD COPY . /src
