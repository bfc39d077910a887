#!/bin/sh
# Runs as root: make the data volume the app's, then drop to the node user.
set -e
mkdir -p /data
chown -R node:node /data
exec gosu node "$@"
