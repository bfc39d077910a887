"""dockerfix pr: tests against a bare git remote on disk and a local GitHub REST stand-in."""
