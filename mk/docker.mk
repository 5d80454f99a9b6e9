# Docker images (docker/). `make docker-build` / `make docker-build-cuda` need a
# Docker engine with BuildKit. CI has none, so `make test` runs the images'
# install script, docker/install.sh, directly into a temporary prefix and
# smoke-checks the result (docker-ci: every step, then again to show the steps
# are idempotent, then the Go toolchain download), and shellchecks it
# (docker-lint). docker/docker_test.go (part of go test ./...) lints the
# Dockerfiles.
DOCKER ?= docker
DOCKER_TAG ?= retlab

.PHONY: setup-docker docker-lint docker-ci docker-build docker-build-cuda docker-constraints
TEST_STEPS += docker-lint docker-ci

# The Debian packages install.sh's steps need (tini, ...), and shellcheck.
setup-docker: setup-apt-test
	@scripts/step.sh docker-apt docker/install.sh --apt-only

# The set-up's own scripts are linted with it.
SETUP_SCRIPTS := scripts/apt-install.sh scripts/apt-candidates.sh scripts/step.sh scripts/find-go.sh \
  scripts/fresh-machine.sh scripts/gpu/cuda-headers.sh scripts/gpu/enable-nonfree.sh
docker-lint: setup-docker
	shellcheck docker/install.sh $(SETUP_SCRIPTS)

# About 4 minutes on 2 cores: building retlab as the image does (cgo on, from
# the copied sources) and warming the build cache cells compile against dominate.
docker-ci: setup-docker
	@d=$$(mktemp -d /tmp/retlab-docker-ci.XXXXXX); trap 'rm -rf "$$d"' EXIT; \
	  docker/install.sh --prefix $$d/retlab && \
	  echo && echo "== docker-ci: again (each step idempotent)" && \
	  docker/install.sh --prefix $$d/retlab && \
	  echo && echo "== docker-ci: the Go toolchain from the module proxy, hash-checked" && \
	  docker/install.sh --prefix $$d/retlab --steps go --goroot $$d/go && \
	  v=$$($$d/go/bin/go env GOVERSION) && test "$$v" = "go$$(sed -n 's/^GO_VERSION=//p' docker/install.sh)" && \
	  echo "docker-ci: passed ($$v downloaded and runs)"

docker-build:
	$(DOCKER) build -f docker/Dockerfile -t $(DOCKER_TAG):cpu .

docker-build-cuda:
	$(DOCKER) build -f docker/Dockerfile.cuda -t $(DOCKER_TAG):cuda .

# Re-pin docker/constraints.txt after changing deps/requirements.txt: a clean
# venv resolves the requirements; its pip freeze becomes the constraints.
docker-constraints:
	@d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
	  /usr/bin/python3 -m venv $$d/v && \
	  $$d/v/bin/pip install -q --disable-pip-version-check --only-binary=:all: -r deps/requirements.txt && \
	  { grep '^#' docker/constraints.txt; $$d/v/bin/pip freeze; } > $$d/c && \
	  mv $$d/c docker/constraints.txt && echo "docker/constraints.txt: $$(grep -vc '^#' docker/constraints.txt) pins"
