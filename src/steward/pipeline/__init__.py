"""The sealed release pipeline: seal, quality, build, provenance, publish, tag, post-release."""
