# The tokenmock image: the static mockserver binary, spec and fixtures
# embedded, on an empty base. No base image is pulled, so it builds with
# no registry. `make image` builds the binary outside the image and
# prepares the build context (bin/image/):
#   mockserver            CGO_ENABLED=0 go build: static, needs no libc
#   passwd, group         the non-root user mockserver, UID and GID 10001
#   ca-certificates.crt   the build host's CA bundle, for HTTPS upstreams
# Dockerfile.multistage builds the same image from the source alone, where
# a registry serves the Go image.
FROM scratch

COPY passwd group /etc/
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY mockserver /mockserver

# Numeric, so that a runtime can check "not root" without reading /etc/passwd.
USER 10001:10001
# Inside a container, loopback would be unreachable from the host: listen on
# every interface. A flag (-addr) still wins over the variable.
ENV MOCKSERVER_ADDR=0.0.0.0:8080
EXPOSE 8080
# No shell or curl in the image: the binary checks itself. It sends
# MOCKSERVER_ADMIN_TOKEN, when set, as the admin API then asks for it.
HEALTHCHECK --interval=5s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/mockserver", "-healthcheck", "http://127.0.0.1:8080/__mock/health"]
ENTRYPOINT ["/mockserver"]

ARG VERSION=dev
LABEL org.opencontainers.image.title="tokenmock" \
      org.opencontainers.image.description="Mock and contract-test server for the Commvault RenewLoginToken and AppSpace ValidateToken APIs" \
      org.opencontainers.image.version="${VERSION}"
