# A Dockerfile that breaks each rule docker_test.go's lint holds
# docker/Dockerfile to (TestLintCatches).
ARG BASE=debian:12@sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251
FROM debian:bookworm-slim AS build
RUN apt-get update && apt-get install -y curl
ADD https://example.com/go.tgz /tmp/
RUN docker/install.sh --steps apt,go,user
FROM ${BASE}
RUN docker/install.sh --image --prefix /opt/retlab --steps modules,echarts,venv,retlab,kernel,notebooks,launcher,check
ENV GOROOT=/usr/local/go \
    PATH=/opt/retlab/bin:/opt/retlab/venv/bin:/usr/local/go/bin:${PATH}
USER root
EXPOSE 80
ENTRYPOINT jupyter lab
CMD ["--ip=0.0.0.0"]
