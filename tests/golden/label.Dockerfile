FROM busybox
LABEL a=b "c d"="e f"
LABEL legacy value with spaces
ENV V=expanded
LABEL version=$V
