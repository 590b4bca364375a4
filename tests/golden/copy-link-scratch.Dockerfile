# golden: cap=mergeop
FROM scratch
COPY --link a /a
COPY --link b /b
