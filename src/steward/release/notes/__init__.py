"""Release notes: `draft` (pure: pull requests in, notes grouped by labels out, with
contributors credited), fed `from_git` (offline, the merge commits since the last release)
or `from_github` (the merged pull requests, through the adapter)."""
