FROM busybox
ARG SRC=files
ARG DEST=/opt
COPY ${SRC}/a.txt $DEST/
RUN echo "$SRC" '$DEST' ${UNSET}
