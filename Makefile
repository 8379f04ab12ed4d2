# gitops-hub: hubctl, the GitOps tree and the local fleet.
GO        ?= go
BIN       ?= bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/gitops-hub/gitops-hub/pkg/cmd.Version=$(VERSION)
# A loopback-only network namespace: apiservers call webhooks at Service IPs (10.x) that must
# never leave the machine. As root: unshare -n; otherwise a user namespace too.
NETNS     ?= $(shell [ "$$(id -u)" = 0 ] && echo "unshare -n" || echo "unshare -rn")
ISOLATED   = $(NETNS) sh -c 'ip link set lo up && exec "$$0" "$$@"'
# A count of executions per target, not a duration: with a duration, Go 1.26's fuzz coordinator
# can fail a target with a bare "context deadline exceeded" when the time is up (golang/go#75804,
# fixed in Go 1.27). A real finding is written to the package's testdata/fuzz/ and printed.
FUZZTIME  ?= 20000x

.PHONY: all build prereqs tools up down status test test-unit test-clusters e2e fuzz bench bench-render bench-diff update-golden vet clean

all: build

build: ## bin/hubctl
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/hubctl ./cmd/hubctl

prereqs: ## check the commands the local fleet needs (git, unshare, ip, ...) and $HUBCTL_CHARTS_DIR before any long step
	@bash hack/prereqs.sh --charts

tools: ## build (once, cached outside the repo) miniredis, etcd, kube-apiserver & co, kwok, helm, argocd, external-secrets
	bash hack/tools/build.sh

up: prereqs build tools ## the local fleet: hub + hosting clusters + Argo CD, until every Application is Synced and Healthy
	$(BIN)/hubctl up

down: build ## stop the local fleet and remove its state
	$(BIN)/hubctl down

status: build
	$(BIN)/hubctl status --local

vet:
	$(GO) vet ./...

test: prereqs vet tools ## everything: unit, golden, corpus, real apiservers, fuzz targets briefly, the local fleet e2e
	$(MAKE) test-clusters
	$(MAKE) fuzz
	$(MAKE) e2e

test-unit: ## the tests that need no cluster (real-cluster tests skip)
	$(GO) test -count=1 ./...

test-clusters: ## all tests, inside a loopback-only network namespace, real apiservers required
	$(GO) test -count=1 -run '^$$' ./... >/dev/null   # compile (and download) outside the namespace
	$(ISOLATED) env HUBCTL_REQUIRE_REAL_CLUSTERS=1 $(GO) test -count=1 ./...

e2e: prereqs build ## the local fleet end-to-end test (about 8 minutes, docs/benchmarks.md; charts: $HUBCTL_CHARTS_DIR)
	$(GO) test -c -o $(BIN)/e2e.test ./test/e2e/
	cd test/e2e && $(ISOLATED) env HUBCTL_E2E=1 ../../$(BIN)/e2e.test -test.v -test.timeout 30m

fuzz: ## run every go-fuzz target for FUZZTIME executions each
	@mkdir -p $(BIN); set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg > $(BIN)/fuzz.log 2>&1 || { cat $(BIN)/fuzz.log; exit 1; }; \
	  done; \
	done

update-golden: ## rewrite golden files under testdata/
	$(GO) test ./pkg/cmd/ ./pkg/validate/ -update

bench: build ## hubctl generate over 100 / 1,000 / 10,000 synthetic clusters (docs/benchmarks.md)
	$(GO) run ./hack/bench -hubctl $(BIN)/hubctl -sizes 100,1000,10000
	$(GO) test -run '^$$' -bench 'BenchmarkGenerate' -benchtime 5x ./pkg/action/

bench-render: build tools ## hubctl render vs a helm template loop, 100 clusters (charts: $HUBCTL_CHARTS_DIR)
	@[ -n "$$HUBCTL_CHARTS_DIR" ] || { echo 'bench-render: set HUBCTL_CHARTS_DIR to a Helm repository folder (hubctl charts pull DIR)' >&2; exit 2; }
	$(GO) run ./hack/benchrender -hubctl $(BIN)/hubctl -helm $$(bash hack/tools/build.sh --print-dir)/helm -charts "$$HUBCTL_CHARTS_DIR" -clusters 100

bench-diff: build tools ## hubctl diff vs one render and a helm template loop on both revisions, 100 clusters (charts: $HUBCTL_CHARTS_DIR)
	$(GO) run ./hack/benchdiff -hubctl $(BIN)/hubctl -helm $$(bash hack/tools/build.sh --print-dir)/helm -clusters 100

clean:
	rm -rf $(BIN)
