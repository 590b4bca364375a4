FROM busybox AS build
WORKDIR /w
RUN echo 1
RUN echo 2
RUN echo 3
RUN echo 4
RUN echo 5
RUN echo 6
RUN echo 7
COPY a /a
ADD b /b
