FROM busybox AS Build
RUN mkdir /out && echo built > /out/file

FROM scratch
COPY --from=build /out/file /file
COPY --from=BUILD /out /out
