FROM scratch
# A commit without a ref is a checksum of the default branch (the daemon checks a short one).
ADD https://example.com/o/r.git?commit=3eb2f147 /repo/
ADD https://example.com/o/r.git?tag=v1&commit=3eb2f147 /v1/
