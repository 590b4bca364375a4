FROM busybox
RUN <<-EOT
	echo chomped
	EOT
