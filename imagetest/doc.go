// Package imagetest checks the container image that `make image` builds:
// it builds the image, runs it with podman, and sends it the README's
// requests, with the embedded fixtures and with fixtures mounted from the
// host. It holds tests only; `make image-test` runs them.
package imagetest
