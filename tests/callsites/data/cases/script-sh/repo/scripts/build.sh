#!/bin/sh
set -eu
# builds the production image
docker build \
  --build-arg NPM_TOKEN="${NPM_TOKEN}" \
  --tag "acme/api:$(git rev-parse --short HEAD)" \
  .
