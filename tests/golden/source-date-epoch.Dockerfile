# golden: build-arg:SOURCE_DATE_EPOCH=1700000000
# The build arg wins over the global default; history entries and the WORKDIR get its time.
ARG SOURCE_DATE_EPOCH=5
FROM busybox
ARG SOURCE_DATE_EPOCH
ENV A=b
WORKDIR /app
RUN echo $SOURCE_DATE_EPOCH
COPY a /a
