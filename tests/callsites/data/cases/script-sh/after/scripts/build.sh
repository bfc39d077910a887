#!/bin/sh
set -eu
# builds the production image
docker build \
  --secret id=npm_token,env=NPM_TOKEN \
  --tag "acme/api:$(git rev-parse --short HEAD)" \
  .
