"""The changelog: `build` (pure: commits and releases in, sections out), `render` (a
template, a repository's own one sandboxed by `sandbox`), `text` (a run's text, through
`cache` of released sections on a warm run) and `file` (CHANGELOG.md on disk, released
sections kept by `splice`)."""
