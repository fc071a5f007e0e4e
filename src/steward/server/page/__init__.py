"""The maintainers' page: Queue, Repositories and Releases, on the operator listener."""
