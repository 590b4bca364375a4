FROM busybox
RUN <<A cat > /a && <<B cat > /b
first
A
second
B
RUN python3 <<EOT
print("hi")
EOT
