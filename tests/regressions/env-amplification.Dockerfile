# Known bug: the per-word expansion cap does not bound a build (see README.md).
FROM scratch
ARG L0=x
ARG L1=${L0}${L0}
ARG L2=${L1}${L1}
ARG L3=${L2}${L2}
ARG L4=${L3}${L3}
ARG L5=${L4}${L4}
ARG L6=${L5}${L5}
ARG L7=${L6}${L6}
ARG L8=${L7}${L7}
ARG L9=${L8}${L8}
ARG L10=${L9}${L9}
ARG L11=${L10}${L10}
ARG L12=${L11}${L11}
ARG L13=${L12}${L12}
ARG L14=${L13}${L13}
ARG L15=${L14}${L14}
ARG L16=${L15}${L15}
ARG L17=${L16}${L16}
ARG L18=${L17}${L17}
ARG L19=${L18}${L18}
ARG L20=${L19}${L19}
ENV V0=${L20} V1=${L20} V2=${L20} V3=${L20} V4=${L20} V5=${L20} V6=${L20} V7=${L20}
RUN echo 0
RUN echo 1
RUN echo 2
RUN echo 3
RUN echo 4
RUN echo 5
RUN echo 6
RUN echo 7
RUN echo 8
RUN echo 9
RUN echo 10
RUN echo 11
RUN echo 12
RUN echo 13
RUN echo 14
RUN echo 15
RUN echo 16
RUN echo 17
RUN echo 18
RUN echo 19
