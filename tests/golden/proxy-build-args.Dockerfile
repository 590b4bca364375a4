# golden: build-arg:HTTP_PROXY=http://proxy:3128 build-arg:no_proxy=localhost build-arg:https_proxy=http://secure:3129 build-arg:FTP_PROXY=ftp://ftp:21 build-arg:ALL_PROXY=socks5://all:1080
FROM busybox
RUN wget -q http://example.com/
ARG HTTP_PROXY
RUN echo $HTTP_PROXY
