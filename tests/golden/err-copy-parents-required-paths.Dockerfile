# golden: cap=file.copy.includeexcludepatterns
FROM busybox
COPY --parents a/b.txt /dst/
