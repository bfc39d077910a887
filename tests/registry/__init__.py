"""Registry client tests (real docker-registry and scripted fakes)."""
