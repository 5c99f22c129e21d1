"""Backlinks of a few named notes are found by a scan that must agree with the full map
(and with the map the daemon keeps).

`vaultsync check NOTE` (a pre-commit hook's run) does not resolve every link of the
vault to build the backlink map: it scans for links that can name the checked note.
Both ways must give the same sources, whatever the links look like.
"""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.clirun import check_json
from tests.conftest import write_vault
from vaultsync.config.settings import load_config
from vaultsync.daemon.live import LiveVault
from vaultsync.lint import engine
from vaultsync.rules import Selection
from vaultsync.vault import sections

NOTES = ["Alpha.md", "sub/Alpha.md", "sub/deep/Beta.md", "Ünï.md", "x.y.md", "other/Gamma.md"]
# Spellings that reach (or nearly reach) the notes above in every way Obsidian resolves.
TARGETS = [
    "Alpha",
    "alpha",
    "ALPHA.md",
    "sub/Alpha",
    "/sub/Alpha",
    "./Alpha",
    "../Alpha",
    "./deep/Beta",
    "../sub/deep/Beta",
    "sub/deep/../Alpha",
    "./Alpha/..",
    "Beta",
    "deep/beta",
    "Ünï",
    unicodedata.normalize("NFD", "Ünï"),
    "ÜNÏ.md",
    "x.y",
    "X.Y.md",
    "Gamma",
    "gamma.md",
    "Gam",
    "sub/",
    ".",
    "..",
    "missing",
]
LINK_FORMS = ["[[{}]]", "![[{}]]", "[[{}|shown]]", "[[{}#Heading]]", "[t]({})", "%% [[{}]] %%"]


@st.composite
def vaults(draw: st.DrawFn) -> dict[str, str]:
    files = {}
    for path in NOTES:
        links = draw(
            st.lists(st.tuples(st.sampled_from(LINK_FORMS), st.sampled_from(TARGETS)), max_size=5)
        )
        body = " ".join(form.format(target.replace(" ", "%20")) for form, target in links)
        if draw(st.booleans()):  # some links only inside a generated section: not counted
            body += (
                "\n\n<!-- vaultsync:begin backlinks -->\n## Backlinks\n"
                f"- [[{draw(st.sampled_from(TARGETS))}]]\n<!-- vaultsync:end backlinks -->\n"
            )
        files[path] = body + "\n"
    return files


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vaults(), st.booleans())
def test_the_scan_finds_what_the_map_finds(files: dict[str, str], exclude: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if exclude:
            files = {**files, ".vaultsync.toml": '[backlinks]\nexclude = ["other/**"]\n'}
        root = write_vault(Path(tmp) / "vault", files)
        config = load_config(root)
        full = sections.backlink_map(engine.load(root, config, use_cache=False))
        scanned = engine.load(root, config, use_cache=False)
        sections.expect_few_targets(scanned)
        for path in NOTES:
            assert sections.backlinks_of(scanned, path) == full.get(path, frozenset()), path
        # The daemon keeps its own map current (daemon/live.py): the same backlinks.
        live = LiveVault(root, config, Selection.for_config(config), use_cache=False)
        assert sections.backlink_map(live.vault) == full


def test_a_relative_link_whose_last_segment_is_a_dot_is_found(tmp_path: Path) -> None:
    # `../Alpha/.` from `sub/` lands on `Alpha.md` though its last segment is `.`.
    root = write_vault(
        tmp_path / "vault",
        {"Alpha.md": "# A\n", "sub/Source.md": "[[../Alpha/.]]\n", "sub/Other.md": "x\n"},
    )
    vault = engine.load(root, load_config(root), use_cache=False)
    assert sections.backlink_map(vault)["Alpha.md"] == {"sub/Source.md"}
    scanned = engine.load(root, load_config(root), use_cache=False)
    sections.expect_few_targets(scanned)
    assert sections.backlinks_of(scanned, "Alpha.md") == {"sub/Source.md"}


def test_checking_one_note_reports_what_the_whole_check_reports_for_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "Hub.md": "# Hub\n",
        "a/One.md": "[[Hub]] [[hub|x]]\n",
        "a/Two.md": "[t](../Hub.md) [[./One]]\n",
        "b/Three.md": "![[HUB.md]]\n\n<!-- vaultsync:begin backlinks -->\n- [[Hub]]\n"
        "<!-- vaultsync:end backlinks -->\n",
        "b/Four.md": "[[Hu]] [[b/Hub]]\n",
    }
    root = write_vault(tmp_path / "vault", files)
    whole = check_json(capsys, str(root), "--no-cache")
    assert any(d["code"] == "S001" for d in whole["diagnostics"])  # backlinks are judged
    for note in files:
        alone = check_json(capsys, str(root / note), "--no-cache")
        expected = [d for d in whole["diagnostics"] if d["path"] == note]
        assert alone["diagnostics"] == expected, note
