# golden: platform=linux/arm64
FROM --platform=$BUILDPLATFORM golang:1.22 AS build
ARG TARGETARCH
RUN GOARCH=$TARGETARCH go build -o /out/app .

FROM --platform=linux/arm64 alpine
COPY --from=build /out/app /usr/local/bin/app
