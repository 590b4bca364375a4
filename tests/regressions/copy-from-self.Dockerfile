FROM a AS a
COPY --from=a / /
