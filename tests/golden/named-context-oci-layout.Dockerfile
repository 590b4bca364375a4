# golden: cap=source.ocilayout context:alpine=oci-layout://mystore@sha256:abababababababababababababababababababababababababababababababab
FROM alpine
COPY --from=alpine /etc/os-release /copy
