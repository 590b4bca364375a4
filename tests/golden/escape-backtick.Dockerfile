# escape=`
# golden: build-arg:V=1
FROM busybox
ARG V
RUN echo one `
    two
COPY a.txt `
    C:\dest\
ENV P=c:\path
RUN echo $P
