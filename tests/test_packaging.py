"""The installed distribution: one import package, `quotebot`, whatever else is on the path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("adapters", "bench", "bot", "docs", "store", "transcripts")


def setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_folder_is_in_the_distribution():
    config = setuptools_config()
    folders = {
        "quotebot." + ".".join(init.parent.relative_to(ROOT).parts)
        for folder in FOLDERS
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert set(config["packages"]) == folders
    assert config["package-dir"] == {f"quotebot.{folder}": folder for folder in FOLDERS}


BLOCK_PLATFORMS = """
import importlib.abc, pkgutil, sys

class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"discord", "slack_bolt", "slack_sdk", "aiohttp"}:
            raise ImportError(f"{name} is blocked in this test")

sys.meta_path.insert(0, Blocked())
import quotebot.bot, quotebot.store
names = []
for package in (quotebot.bot, quotebot.store):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        __import__(module.name)
        names.append(module.name)
print(len(names))
"""


@pytest.mark.slow
def test_the_core_imports_without_discord_or_slack():
    out = subprocess.run([sys.executable, "-c", BLOCK_PLATFORMS], capture_output=True,
                         text=True, cwd=ROOT.parent, check=False)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 20  # every module of bot/ and store/ was imported


def build_wheel(work: Path) -> Path:
    """A wheel built offline from a copy of the checkout (the checkout stays clean)."""
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, source / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(work / "dist"), str(source)],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = (work / "dist").glob("quotebot-*.whl")
    return wheel


def fresh_venv(work: Path) -> Path:
    """A new venv whose only extra path is this environment's dependencies, quotebot left out."""
    home = work / "venv"
    venv.create(home, with_pip=False)
    deps = work / "deps"
    deps.mkdir()
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        if not entry.name.lower().startswith(("quotebot", "__editable__", "_quotebot")):
            (deps / entry.name).symlink_to(entry)
    (site,) = home.glob("lib/python*/site-packages")
    (site / "dependencies.pth").write_text(f"{deps}\n")
    return home


@pytest.mark.slow
def test_the_wheel_installs_one_import_name_and_ignores_a_foreign_bot(tmp_path):
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        top = {name.split("/")[0] for name in names}
    assert {name for name in top if not name.endswith(".dist-info")} == {"quotebot"}
    # The quote cards' fonts and their licences ship inside the package.
    assert {"quotebot/bot/fonts/DejaVuSans.ttf", "quotebot/bot/fonts/NotoSansCJKsc-Subset.otf",
            "quotebot/bot/fonts/LICENSE-DejaVu.txt",
            "quotebot/bot/fonts/LICENSE-NotoSansCJK-OFL.txt"} <= set(names)

    home = fresh_venv(tmp_path)
    python = home / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, text=True)

    # Another project's generic packages first on the path must change nothing.
    foreign = tmp_path / "foreign"
    for name in ("bot", "store", "adapters", "transcripts"):
        (foreign / name).mkdir(parents=True)
        (foreign / name / "__init__.py").write_text("raise ImportError('the wrong package')\n")
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {**os.environ, "PYTHONPATH": str(foreign), "QUOTEBOT_DB": str(cwd / "q.db")}
    out = subprocess.run([str(home / "bin" / "quotebot"), "search", "ideas are cheap",
                          "--limit", "1"], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    assert "ideas are cheap" in out.stdout and "Ilya Sutskever" in out.stdout
    # The guides --help points at are installed with it.
    guide = subprocess.run([str(home / "bin" / "quotebot"), "docs", "slack"], cwd=cwd, env=env,
                           capture_output=True, text=True, check=True)
    assert guide.stdout.startswith("# quotebot in Slack")
    # A card is drawn with the fonts of the installed copy.
    card = subprocess.run([str(home / "bin" / "quotebot"), "card", "1", "-o", "card.png"],
                          cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert card.returncode == 0, card.stderr
    assert (cwd / "card.png").read_bytes().startswith(b"\x89PNG")
    # It ran the installed copy, not the checkout.
    where = subprocess.run([str(python), "-c", "import quotebot.bot; print(quotebot.bot.__file__)"],
                           cwd=cwd, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(home))
