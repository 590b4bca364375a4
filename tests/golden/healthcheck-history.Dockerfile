# The 1.24+ history text, BuildKit's TestDispatchHealthcheckHistory.
FROM busybox
HEALTHCHECK --interval=1s --timeout=10s --start-period=3s --start-interval=100ms --retries=5 CMD ["bin", "-c", "exit 0"]
