#!/bin/sh
docker build -f "$DOCKERFILE" --build-arg NPM_TOKEN -t api .
