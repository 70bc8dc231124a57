# tokenmock — the two commands a new machine needs are `make run` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# The contract suite's target: the mock in-process unless BASE_URL (or
# CONTRACT_BASE_URL) names a server.
BASE_URL    ?= $(CONTRACT_BASE_URL)
COMPARE_URL ?= $(CONTRACT_COMPARE_URL)
GOTESTSUM   := gotest.tools/gotestsum@v1.13.0

.PHONY: run test build lint contract contract-junit contract-compare screenshots

## run: start the mock on the embedded spec and fixtures, at 127.0.0.1:8080 unless
## ADDR=host:port (or MOCKSERVER_ADDR in the environment); ARGS=more flags
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/mockserver $(if $(ADDR),-addr $(ADDR)) $(ARGS)

## test: every test, with the race detector
test:
	$(GO) test -race -count=1 ./...

## build: the binary in bin/mockserver
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/mockserver ./cmd/mockserver

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

## screenshots: the README's pictures of the dashboard (docs/dashboard*.png), taken in
## headless Chromium (Debian's chromium package)
screenshots:
	TOKENMOCK_SCREENSHOTS=$(CURDIR)/docs $(GO) test -count=1 -run TestScreenshots -v ./internal/dashboard

## lint: go vet, staticcheck (pinned, run with go run), and gofmt must have nothing to say
lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## contract: the contract suite against the mock, or BASE_URL=https://...
## (built as the standalone binary bin/contracttests, which a pipeline can run alone)
contract:
	$(GO) test -c -o bin/contracttests ./contracttests
	CONTRACT_BASE_URL=$(BASE_URL) ./bin/contracttests

## contract-junit: the same, with JUnit XML in .reports/contract-junit.xml
contract-junit:
	mkdir -p .reports
	CONTRACT_BASE_URL=$(BASE_URL) $(GO) run $(GOTESTSUM) --format testname --junitfile .reports/contract-junit.xml -- -count=1 ./contracttests

## contract-compare: where the answers of BASE_URL and COMPARE_URL differ in shape
contract-compare:
	@if [ -z "$(BASE_URL)" ] || [ -z "$(COMPARE_URL)" ]; then echo "usage: make contract-compare BASE_URL=http://... COMPARE_URL=http://..."; exit 2; fi
	CONTRACT_BASE_URL=$(BASE_URL) CONTRACT_COMPARE_URL=$(COMPARE_URL) $(GO) test -count=1 -v -run TestCompareTargets ./contracttests

FUZZTIME ?= 60s
FUZZ_TARGETS := \
	./internal/xmlcodec:FuzzDecode \
	./internal/jsoncodec:FuzzDecode \
	./internal/contract:FuzzNegotiate \
	./internal/scenario:FuzzLoad \
	./internal/redact:FuzzBody \
	./mockserver:FuzzServe

.PHONY: fuzz
## fuzz: run each fuzz target for FUZZTIME (crashers land in testdata/fuzz, kept as regressions)
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "== $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

SOAK ?= 60s
.PHONY: soak
## soak: 64 clients for SOAK (60s) under -race, then SIGTERM under load
soak:
	SOAK_DURATION=$(SOAK) $(GO) test -race -count=1 -timeout 30m -v -run 'TestSoak|TestSIGTERM' ./mockserver ./cmd/mockserver

BENCH_DURATION ?= 15s
.PHONY: bench
## bench: load benchmark of mockserver beside a bare-Echo baseline (results in .bench/)
bench:
	$(GO) run ./bench -duration $(BENCH_DURATION)

OAPI_CODEGEN := github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2
.PHONY: codegen-check
## codegen-check: the Go client oapi-codegen (pinned, default settings) generates from
## openapi.yaml compiles, and reads the mock's answers (a module of its own: contracttests/goclient)
codegen-check:
	mkdir -p contracttests/goclient/gen
	$(GO) run $(OAPI_CODEGEN) -package gen -o contracttests/goclient/gen/client.gen.go openapi.yaml
	cd contracttests/goclient && $(GO) mod tidy && $(GO) vet ./... && $(GO) test -count=1 ./...

REDOCLY  := @redocly/cli@2.77.0
SPECTRAL := @stoplight/spectral-cli@6.16.3
.PHONY: spec-lint
## spec-lint: redocly and spectral (pinned, through npx) on openapi.yaml and admin.yaml. Known
## limitation of both: XML examples are strings, which they check as JSON ("must be object")
spec-lint:
	npx -y $(REDOCLY) lint openapi.yaml admin.yaml
	npx -y $(SPECTRAL) lint openapi.yaml admin.yaml

.PHONY: wcf-check
## wcf-check: a real .NET DataContract client (Mono, installed from Debian when missing) against the mock
wcf-check:
	./contracttests/wcfclient/run.sh

.PHONY: dotnet-golden
## dotnet-golden: the contract suite's XML oracle written anew by the real .NET serializers
## (Mono, installed from Debian when missing) into contracttests/testdata/dotnet (committed)
dotnet-golden:
	./contracttests/wcfclient/golden.sh

# ---- container image ------------------------------------------------------
# FROM scratch around a static binary built here: no base image to pull.
IMAGE         ?= tokenmock:latest
IMAGE_CONTEXT ?= bin/image
IMAGE_UID     := 10001
CA_CERTS      ?= /etc/ssl/certs/ca-certificates.crt
CONTAINER     ?= $(shell command -v podman >/dev/null 2>&1 && echo podman || { command -v docker >/dev/null 2>&1 && echo docker; })
# podman: its default OCI format would drop the HEALTHCHECK, and its layer
# cache would keep an untagged image per step.
IMAGE_FLAGS    = $(if $(filter podman,$(notdir $(CONTAINER))),--format docker --layers=false)

.PHONY: image image-test
## image: the container image IMAGE (tokenmock:latest) with podman or docker (CONTAINER=...)
image:
	@[ -n "$(CONTAINER)" ] || { echo "make image: neither podman nor docker found (apt-get install podman runc)"; exit 2; }
	@[ -r "$(CA_CERTS)" ] || { echo "make image: no CA bundle at $(CA_CERTS) (apt-get install ca-certificates, or CA_CERTS=FILE)"; exit 2; }
	mkdir -p $(IMAGE_CONTEXT)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o $(IMAGE_CONTEXT)/mockserver ./cmd/mockserver
	cp $(CA_CERTS) $(IMAGE_CONTEXT)/ca-certificates.crt
	printf 'mockserver:x:$(IMAGE_UID):$(IMAGE_UID):tokenmock:/:/nonexistent\n' > $(IMAGE_CONTEXT)/passwd
	printf 'mockserver:x:$(IMAGE_UID):\n' > $(IMAGE_CONTEXT)/group
	chmod 0755 $(IMAGE_CONTEXT)/mockserver && chmod 0644 $(IMAGE_CONTEXT)/ca-certificates.crt $(IMAGE_CONTEXT)/passwd $(IMAGE_CONTEXT)/group
	$(CONTAINER) build $(IMAGE_FLAGS) --build-arg VERSION=$(VERSION) -t $(IMAGE) -f Dockerfile $(IMAGE_CONTEXT)
	@$(CONTAINER) image inspect --format '$(IMAGE): {{.Size}} bytes' $(IMAGE)

## image-test: build the image, run it with podman, send it the README's requests
image-test:
	TOKENMOCK_IMAGE_TEST=1 $(GO) test -count=1 -v -timeout 10m ./imagetest
