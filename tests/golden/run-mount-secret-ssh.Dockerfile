FROM busybox
RUN --mount=type=secret,id=token cat /run/secrets/token
RUN --mount=type=secret,id=aws,target=/root/.aws/credentials,required=true,mode=0440,uid=1000,gid=1000 true
RUN --mount=type=ssh ssh-add -l
RUN --mount=type=ssh,id=deploy,target=/run/deploy.sock,required=true ls
