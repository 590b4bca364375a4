FROM busybox
RUN --network=none echo none
RUN --network=host echo host
RUN --network=default echo default
RUN --security=insecure echo insecure
RUN --security=sandbox echo sandbox
