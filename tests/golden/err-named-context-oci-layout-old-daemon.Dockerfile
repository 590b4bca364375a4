# golden: context:alpine=oci-layout://mystore@sha256:abababababababababababababababababababababababababababababababab
FROM alpine
