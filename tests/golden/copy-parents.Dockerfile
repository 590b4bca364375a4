# golden: cap=file.copy.includeexcludepatterns cap=file.copy.requiredpaths
FROM busybox
COPY --parents ./x/./y/*.txt z/a.go /dst/
COPY --parents --chown=app src/./lib/main.c /build/
