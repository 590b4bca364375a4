# golden: no-cache=build
FROM busybox AS build
RUN echo build > /b
COPY x /x
FROM busybox
COPY --from=build /b /b
RUN cat /b
