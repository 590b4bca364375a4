# golden: force-network-mode=none
FROM busybox
RUN echo offline
RUN --network=host echo host wins
