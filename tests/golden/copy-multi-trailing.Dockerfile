FROM busybox
COPY a.txt b.txt /multi/
COPY a.txt /renamed
COPY dir/ /dir-slash/
COPY ./sub/../c.txt /x/.
WORKDIR /app
COPY c.txt .
COPY c.txt rel/
COPY /abs/../d.txt rel2
