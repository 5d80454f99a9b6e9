// Package docker holds RetLab's container images and the one script that
// installs everything in them; it has no Go API. Its tests lint the
// Dockerfiles (hadolint is not available on these machines).
//
// Files:
//
//	Dockerfile       CPU image: JupyterLab, the Go (RetLab) kernel, Go with a warm build cache
//	Dockerfile.cuda  the same on NVIDIA's CUDA 12.9 images, retlab built -tags cuda
//	install.sh       every install step; both Dockerfiles run it, CI runs it directly
//	smoke.py         install.sh's check step: kernelspec, a cell, a chart, JupyterLab with auth
//	constraints.txt  every pip package of the image's venv, pinned
//
// The rules the tests hold the Dockerfiles to, and why:
//
//   - Base images are pinned by exact tag and digest, so a rebuild starts
//     from the same bytes.
//   - Every RUN is docker/install.sh and nothing else, so what an image
//     build does is what `make docker-ci` exercises without Docker; together
//     the RUNs take every step install.sh has.
//   - The final stage runs as a non-root user, exposes 8888, has a
//     HEALTHCHECK (retlab-healthcheck: GET /api) and starts JupyterLab
//     through tini and retlab-lab (token authentication on).
//   - Its ENV says what `install.sh --print-env` says.
//   - The CUDA image builds on CUDA 12.x (CUDA 13 headers break
//     gorgonia.org/cu) and passes --cuda to every install.sh.
//   - .dockerignore keeps local installs (.venv, node_modules, bin) and .git
//     out of the build context; constraints.txt agrees with
//     deps/requirements.txt; the pinned Go toolchain is the go.mod's release.
package docker
