FROM busybox AS base
ENV BASE_ENV=from-base
WORKDIR /app
USER app
RUN echo base > base.txt

FROM base AS final
RUN echo "final sees $BASE_ENV" > final.txt
