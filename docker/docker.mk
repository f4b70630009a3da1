# Docker targets: the grading image and grading inside it. docs/docker.md explains them.
# Included from the Makefile; uses its PY, SUBMISSION and REPORTS.
DOCKER_BASE_IMAGE   ?= python:3.11-slim
DOCKER_OFFLINE_BASE ?= fkp-grader-base:bookworm
DOCKER_TORCH_INDEX  ?= https://download.pytorch.org/whl/cpu
DOCKER_WHEELHOUSE   ?=
DOCKER_IMAGE_NAME   ?= fkp-grader
DOCKER_DATA         ?= data/facial-keypoints
DOCKER_SAMPLES      ?= data/samples
# Builds of this machine wait for each other (flock, where util-linux has it): a second `make
# docker-build` of the same tag finds the image the first one made instead of building it again.
# Where the lock file cannot be made, or after an hour's wait, the build goes on without it.
DOCKER_BUILD_LOCK   ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/fkp-grader/docker-build.lock
docker_lock = lock="$(DOCKER_BUILD_LOCK)"; \
	if command -v flock >/dev/null 2>&1 && mkdir -p "$$(dirname "$$lock")" 2>/dev/null && (: >>"$$lock") 2>/dev/null; then \
	  exec 9>>"$$lock"; flock -n 9 || { echo "$@: waiting for another build (lock $$lock)"; flock -w 3600 9 || true; }; \
	fi
docker_torch_source = $(if $(DOCKER_WHEELHOUSE),wheelhouse,$(DOCKER_TORCH_INDEX))
# Recursively expanded: the hash is only computed by the targets that use it.
DOCKER_IMAGE = $(DOCKER_IMAGE_NAME):$(shell docker/image-tag.sh "$(DOCKER_BASE_IMAGE)" "$(docker_torch_source)")
docker_needs_offline_base = $(filter $(DOCKER_OFFLINE_BASE),$(DOCKER_BASE_IMAGE))

.PHONY: docker-available docker-base-offline docker-wheelhouse docker-build docker-image docker-grade

docker-available:  ## check that a Docker engine answers (docker/dockerd-start.sh starts one)
	@docker info >/dev/null 2>&1 || { echo "No Docker engine answers 'docker info'. Start one as root with docker/dockerd-start.sh (stop it with docker/dockerd-stop.sh)." >&2; exit 1; }

docker-base-offline: docker-available  ## build the offline Debian base image once (debootstrap; no image registry needed)
	@$(docker_lock); \
	if docker image inspect $(DOCKER_OFFLINE_BASE) >/dev/null 2>&1; then \
	  echo "docker-base-offline: $(DOCKER_OFFLINE_BASE) exists (docker image rm it to rebuild)"; \
	else docker/base-offline.sh $(DOCKER_OFFLINE_BASE); fi

docker-wheelhouse: setup  ## fill DOCKER_WHEELHOUSE with every wheel the image needs, via this machine's pip
	@test -n "$(DOCKER_WHEELHOUSE)" || { echo "docker-wheelhouse: set DOCKER_WHEELHOUSE=DIR" >&2; exit 1; }
	docker/wheelhouse.sh "$(DOCKER_WHEELHOUSE)" $(PY)

# The wheelhouse is filled here, not by a sub-make: a sub-make would not inherit `--assume-old`
# for the venv a caller passes (the tests do), and would reinstall this checkout into it.
docker-build: docker-available $(if $(docker_needs_offline_base),docker-base-offline) $(if $(DOCKER_WHEELHOUSE),setup)  ## build the grading image once per content hash
	@image="$(DOCKER_IMAGE)"; $(docker_lock); \
	if docker image inspect "$$image" >/dev/null 2>&1; then echo "docker-build: $$image exists"; exit 0; fi; \
	$(if $(DOCKER_WHEELHOUSE),docker/wheelhouse.sh "$(DOCKER_WHEELHOUSE)" $(PY) &&) \
	BASE_IMAGE="$(DOCKER_BASE_IMAGE)" TORCH_INDEX="$(DOCKER_TORCH_INDEX)" WHEELHOUSE="$(DOCKER_WHEELHOUSE)" \
	  docker/build-image.sh "$$image" && \
	docker image ls "$$image" --format 'docker-build: {{.Repository}}:{{.Tag}} {{.Size}}'

docker-image:  ## print the image name docker-build makes (for scripts: make -s docker-image)
	@echo "$(DOCKER_IMAGE)"

docker-grade: docker-build data  ## grade SUBMISSION in the image: no network, read-only, labels hidden from student code
	SUBMISSION="$(SUBMISSION)" REPORTS="$(REPORTS)" DATA="$(DOCKER_DATA)" SAMPLES="$(DOCKER_SAMPLES)" \
	  docker/run.sh -- "$(DOCKER_IMAGE)" grade /submission --name "$(NAME)" --out /grader-out/reports
	@echo "docker-grade: report in $(REPORTS)/$(NAME)/report.html"
