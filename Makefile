# gitops-hub: hubctl and the GitOps tree.
GO        ?= go
BIN       ?= bin
CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/gitops-hub
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/gitops-hub/gitops-hub/pkg/cmd.Version=$(VERSION)

.PHONY: all build test test-short fuzz bench update-golden vet demo clean

all: build

build: ## build bin/hubctl
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/hubctl ./cmd/hubctl

vet:
	$(GO) vet ./...

test: vet ## unit, golden and corpus tests, then each fuzz target briefly
	$(GO) test -count=1 ./...
	$(MAKE) fuzz FUZZTIME=10s

FUZZTIME ?= 30s
fuzz: ## run every go-fuzz target for FUZZTIME each
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg >/dev/null; \
	  done; \
	done

update-golden: ## rewrite golden files under testdata/
	$(GO) test ./pkg/cmd/ -update

bench: build ## benchmarks of hubctl generate over synthetic fleets (see docs/benchmarks.md)
	$(GO) run ./hack/bench -hubctl $(BIN)/hubctl -sizes 100,1000,10000
	$(GO) test -run '^$$' -bench 'BenchmarkGenerate' -benchtime 5x ./pkg/action/

demo: build ## what the hub deploys where, for the shipped tree
	$(BIN)/hubctl generate -o table

clean:
	rm -rf $(BIN)
