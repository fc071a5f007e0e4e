"""Configuration: the playbook as defaults, `.github/steward.yml` to change them.

`base` and `lists` are what every section is made of; `release` holds the release sections
(what `steward version` and `steward changelog` read, loaded alone); `model` composes the
whole file from the core, the release pipeline's section and each policy's section (from
the policy registry); `loader` reads a file into a model with file and line in its errors.
"""
