FROM busybox
ENV A=1 B="two words" C='single $A'
ENV LEGACY legacy form value
ENV D=${A}-x E=${MISSING:-fallback} F=${A:+set}
RUN echo "$A $B $C $LEGACY $D $E $F"
