# golden: cap=file.copy.includeexcludepatterns
FROM busybox
COPY --parents **/*.json /cfg/
