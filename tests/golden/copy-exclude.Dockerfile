# golden: cap=file.copy.includeexcludepatterns
FROM busybox
COPY --exclude=*.tmp --exclude=cache/ src /src/
