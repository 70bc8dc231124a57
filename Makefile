# tokenmock — the two commands a new machine needs are `make run` and `make test`.
GO      ?= go
ADDR    ?= 127.0.0.1:8080
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: run test build lint

## run: start the mock on the embedded spec and fixtures (ADDR=host:port, ARGS=more flags)
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/mockserver -addr $(ADDR) $(ARGS)

## test: every test, with the race detector
test:
	$(GO) test -race -count=1 ./...

## build: the binary in bin/mockserver
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/mockserver ./cmd/mockserver

## lint: go vet, and gofmt must have nothing to say
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
