FROM busybox
RUN cat <<-EOT > /greeting
	hello
	EOT
