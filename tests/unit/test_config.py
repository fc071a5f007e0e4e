"""Config: the playbook as defaults; errors name the file, the line and the key."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from steward.cli.config_cmd import config_schema
from steward.config.loader import as_yaml, find_config, load_config, parse_config
from steward.config.model import StewardConfig
from steward.errors import ConfigError

PLAYBOOK = Path("/work/shared/seed/maintainers-playbook.md")
# The playbook's Labels section, copied so a fresh checkout can run these tests; it must stay
# identical to the seed's wherever the seed is present (checked below).
LABELS_COPY = Path(__file__).with_name("playbook_labels.md")


def error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source=".github/steward.yml")
    return info.value


# ---- errors: file, line, key ----


def test_unknown_nested_key() -> None:
    err = error("triage:\n  label: triage\n  welcom_issue: hi\n")
    assert str(err) == ".github/steward.yml:3: triage.welcom_issue: unknown key"
    assert (err.path, err.line) == (".github/steward.yml", 3)


def test_unknown_top_level_key() -> None:
    err = error("# my config\n\nsizes:\n  enabled: true\n")
    assert str(err) == ".github/steward.yml:3: sizes: unknown key"


def test_bad_value_deep_in_a_mapping() -> None:
    text = "# comment\nsize:\n  enabled: true\n  bands:\n    XS: 0\n    S: ten\n"
    err = error(text)
    assert err.line == 6
    assert str(err).startswith(".github/steward.yml:6: size.bands.S: ")


def test_bad_value_in_a_list_item() -> None:
    text = (
        "labels:\n"
        "  - name: a\n"
        "    color: 'ffffff'\n"
        "  - name: b\n"
        "    description: fine\n"
        "    color: nothex\n"
    )
    err = error(text)
    assert err.line == 6
    assert "labels.1.color" in str(err)
    assert "six hex digits" in str(err)


def test_bad_scalar_list_item() -> None:
    err = error("ignore_authors:\n  - bot-a\n  - [nested]\n")
    assert err.line == 3
    assert "ignore_authors.1" in str(err)  # 0-based, as pydantic reports it


def test_unknown_key_inside_a_list_item() -> None:
    err = error("areas:\n  rules:\n    - label: x\n      any: ['a/**']\n      anyy: ['b']\n")
    assert str(err) == ".github/steward.yml:5: areas.rules.0.anyy: unknown key"


def test_wrong_type_for_a_section() -> None:
    err = error("size: 5\n")
    assert err.line == 1
    assert "size" in str(err)


def test_several_errors_are_counted() -> None:
    err = error("a: 1\nb: 2\nc: 3\n")
    assert str(err).endswith("(and 2 more errors)")


def test_malformed_yaml_names_the_line() -> None:
    err = error("size:\n  enabled: true\n  bands: {XS: 0\nareas: {}\n")
    assert err.line is not None
    assert err.line >= 3
    assert "invalid YAML" in str(err)
    tab = error("size:\n\tenabled: true\n")
    assert tab.line == 2


def test_duplicate_keys_are_errors() -> None:
    err = error("size:\n  enabled: true\n  enabled: false\n")
    assert str(err) == ".github/steward.yml:3: size.enabled: duplicate key"


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    err = error("\n".join(lines) + "\n")
    assert "aliases" in str(err)


def test_top_level_must_be_a_mapping() -> None:
    assert error("- a\n- b\n").line == 1


def test_duplicate_labels() -> None:
    text = "labels:\n  - {name: bug, color: d73a4a}\n  - {name: Bug, color: d73a4a}\n"
    assert "listed twice" in str(error(text))


def test_label_description_over_githubs_100_chars() -> None:
    err = error(f"labels:\n  - name: x\n    color: '000000'\n    description: {'d' * 101}\n")
    assert err.line == 4
    assert "labels.0.description" in str(err)


def test_files(tmp_path: Path) -> None:
    assert find_config(tmp_path) is None
    assert load_config(None) == StewardConfig()
    cfg = tmp_path / ".github" / "steward.yml"
    cfg.parent.mkdir()
    cfg.write_text("size:\n  enabled: false\n")
    assert find_config(tmp_path) == cfg
    assert load_config(cfg).size.enabled is False
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yml")
    bad = tmp_path / "latin.yml"
    bad.write_bytes(b"size:\n  prefix: \xe9\n")
    with pytest.raises(ConfigError, match=r"latin\.yml"):
        load_config(bad)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_file_is_the_defaults(text: str) -> None:
    assert parse_config(text) == StewardConfig()


def test_partial_section_keeps_other_defaults() -> None:
    cfg = parse_config("size:\n  ignore: []\n")
    assert cfg.size.ignore == []
    assert cfg.size.bands == {"XS": 0, "S": 10, "M": 30, "L": 100, "XL": 500, "XXL": 1000}


def test_effective_config_round_trips() -> None:
    cfg = parse_config("triage:\n  label: needs-triage\n")
    again = parse_config(as_yaml(cfg.effective()))
    assert again == cfg


# ---- defaults are the playbook ----


def labels_section(text: str) -> str:
    return text.split("## Labels", 1)[1].split("\n## ", 1)[0].rstrip("\n")


def playbook_labels() -> dict[str, str]:
    """Label -> Usage, parsed from the playbook's Labels table."""
    source = PLAYBOOK if PLAYBOOK.is_file() else LABELS_COPY
    section = labels_section(source.read_text(encoding="utf-8"))
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in {"Label", ""} or set(cells[0]) <= set("-"):
            continue
        if cells[0] == "`<utility>`":
            continue
        rows[cells[0]] = cells[1]
    return rows


def test_the_copy_is_the_playbooks_table() -> None:
    if not PLAYBOOK.is_file():
        pytest.skip("the seed playbook is not on this machine")
    copy = labels_section(LABELS_COPY.read_text(encoding="utf-8"))
    assert copy == labels_section(PLAYBOOK.read_text(encoding="utf-8"))


def test_playbook_table_is_parsed() -> None:
    labels = playbook_labels()
    assert len(labels) == 33
    assert labels["size/XXL"] == "PRs with 1K+ LOC, largely documentation related"


def test_every_playbook_label_is_in_the_default_taxonomy() -> None:
    defaults = {spec.name: spec for spec in StewardConfig().labels}
    for name, usage in playbook_labels().items():
        assert name in defaults, name
        assert defaults[name].description == usage[:100], name
        assert re.fullmatch(r"[0-9a-f]{6}", defaults[name].color), name


def test_default_taxonomy_fits_github() -> None:
    for spec in StewardConfig().labels:
        assert 0 < len(spec.name) <= 50
        assert len(spec.description) <= 100
    names = StewardConfig().label_names()
    # Every label a default policy applies exists in the taxonomy.
    cfg = StewardConfig()
    assert set(cfg.labels_by_policy()) <= names
    applied = {
        *cfg.size.all_labels(),
        *cfg.areas.labels(),
        *cfg.semantic_title.type_labels(),
        cfg.semantic_title.breaking_label,
        cfg.related_issue.block_label,
        cfg.related_issue.reason_label,
        cfg.acknowledgement.reason_label,
        cfg.pending_release.label,
        cfg.triage.label,
        cfg.sweep.stale_label,
        cfg.sweep.revisit_label,
        *cfg.merge_gate.block_labels,
    }
    assert applied <= names


def test_default_change_types_and_ignored_bots() -> None:
    cfg = StewardConfig()
    types = cfg.semantic_title.types
    assert (types["feat"], types["fix"], types["bug"], types["docs"], types["chore"]) == (
        "feature",
        "bug",
        "bug",
        "documentation",
        "internal",
    )
    assert (types["refactor"], types["deprecated"]) == ("enhancement", "deprecated")
    assert {"dependabot[bot]", "renovate[bot]"} <= set(cfg.ignore_authors)


# ---- JSON Schema ----


def test_schema_is_valid_draft_2020_12_and_accepts_a_real_config() -> None:
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    sample = yaml.safe_load(
        """
ignore_authors: ["dependabot[bot]"]
labels:
  - {name: tracer, color: "00ff00", description: Tracer utility, from: [area/tracer]}
size:
  ignore: ["*.lock"]
areas:
  rules:
    - {label: tracer, any: ["aws_lambda_powertools/tracing/**"]}
semantic_title:
  types: {feat: feature, refactor: tech-debt, ci: null}
pending_release:
  maintainers_team: "@aws-powertools/maintainers"
sweep:
  days_before_stale: 30
"""
    )
    assert list(validator.iter_errors(sample)) == []
    assert parse_config(yaml.safe_dump(sample)).sweep.days_before_stale == 30
    # The schema knows what the loader knows: unknown keys and bad types are errors there too.
    assert not validator.is_valid({"sizes": {}})
    assert not validator.is_valid({"size": {"enabled": "maybe"}})
    assert not validator.is_valid({"triage": {"welcom_issue": "x"}})


def test_schema_validates_the_effective_defaults() -> None:
    validator = jsonschema.Draft202012Validator(config_schema())
    assert list(validator.iter_errors(StewardConfig().effective())) == []


def test_version_constant_matches_the_package_metadata() -> None:
    import tomllib
    from importlib.metadata import version
    from pathlib import Path

    import steward

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    assert steward.__version__ == declared == version("repo-steward")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("size:\n  bands: " + "[" * 500 + "]" * 500 + "\n", "nested more than 64 levels"),
        ("size: " + "{a: " * 500 + "1" + "}" * 500 + "\n", "nested more than 64 levels"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n"
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            )
            + "size: {ignore: *i}\n",
            "YAML aliases",
        ),
    ],
    ids=["list-500-deep", "map-500-deep", "alias-bomb"],
)
def test_hostile_yaml_is_one_config_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(text, source=".github/steward.yml")


@pytest.mark.parametrize("glob", ["[z-a]", "src/[9-0].py"])
def test_an_invalid_glob_fails_at_load_naming_it(glob: str) -> None:
    with pytest.raises(ConfigError, match=r"invalid glob") as exc:
        parse_config(f"areas:\n  rules:\n    - label: x\n      any: ['{glob}']\n", source="c.yml")
    assert "c.yml:4" in str(exc.value)
    with pytest.raises(ConfigError, match=r"invalid glob"):
        parse_config(f"size:\n  ignore: ['{glob}']\n", source="c.yml")


def test_deep_globstars_match_in_linear_time() -> None:
    from steward.globs import match

    assert not match("**/" * 40 + "x.py", "a/" * 200 + "y.py")
    assert match("**/" * 40 + "x.py", "a/" * 200 + "x.py")
