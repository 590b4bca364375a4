# golden: build-arg:TAG=edge build-arg:UNDECLARED=ignored
ARG BASE=alpine
ARG TAG=3.19
FROM $BASE:$TAG
RUN echo hi
