"""The locks that `make run`, `make test` and production install from stay installable.

What installs them is scripts/python-env.sh (the system pip only installs the pinned pip and uv
from bootstrap.lock; uv syncs the rest). CI's fresh clone runs it for real; these tests keep
the locks themselves in the shape that makes that work.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "requirements"

PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)(?P<marker>\s*;[^\\]*)?")
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


def read_lock(name: str) -> dict[tuple[str, str], tuple[str, frozenset[str]]]:
    """(name, marker) → (version, hashes) for every requirement of a lock file.

    A universal lock may pin one package twice, for different Pythons (by marker).
    """
    entries: dict[tuple[str, str], tuple[str, frozenset[str]]] = {}
    text = (LOCKS / name).read_text(encoding="utf-8")
    # A requirement runs over continuation lines (`\`) until a line without one.
    for block in re.split(r"(?<!\\)\n", text):
        line = block.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"{name}: not an exact pin: {line[:80]}"
        hashes = frozenset(HASH.findall(block))
        assert hashes, f"{name}: {match['name']} has no hash"
        key = (canonicalize_name(match["name"]), (match["marker"] or "").strip(" ;"))
        assert key not in entries, f"{name}: {key} pinned twice"
        entries[key] = (match["version"], hashes)
    return entries


def versions(pins, name: str) -> list[str]:
    return [version for (pinned, _), (version, _) in pins.items() if pinned == name]


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_bootstrap_lock_holds_only_the_pinned_installers():
    bootstrap = read_lock("bootstrap.lock")
    assert set(bootstrap) == {("pip", ""), ("uv", "")}  # one pin each, for every platform
    major = int(versions(bootstrap, "pip")[0].split(".")[0])
    assert major >= 24, "pip before 24 cannot install hash-checked locks with extras"


@pytest.mark.parametrize("lock", ["runtime.lock", "dev.lock"])
def test_every_dependency_and_the_build_backend_are_pinned(lock):
    pins = read_lock(lock)
    wanted = [*project()["project"]["dependencies"], *project()["build-system"]["requires"]]
    if lock == "dev.lock":
        wanted += project()["project"]["optional-dependencies"]["dev"]
    for requirement in map(Requirement, wanted):
        pinned = versions(pins, canonicalize_name(requirement.name))
        assert pinned, f"{lock} lacks {requirement.name}"
        for version in pinned:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock}: {requirement.name}=={version} does not satisfy {requirement}"
            )


def test_dev_lock_installs_exactly_what_production_installs_plus_the_tools():
    runtime, dev = read_lock("runtime.lock"), read_lock("dev.lock")
    for key, (version, hashes) in runtime.items():
        assert key in dev, f"dev.lock lacks {key}"
        assert dev[key][0] == version, f"{key}: runtime {version}, dev {dev[key][0]}"
        assert dev[key][1] == hashes, f"{key}: the two locks trust different files"
    test_tools = {
        canonicalize_name(Requirement(r).name)
        for r in project()["project"]["optional-dependencies"]["dev"]
    }
    assert not test_tools & {name for name, _ in runtime}, "test tools in the production lock"


def test_source_packages_are_built_with_a_pinned_hashed_backend():
    build = read_lock("build.lock")
    backend = [Requirement(r) for r in project()["build-system"]["requires"]]
    for requirement in backend:
        pinned = versions(build, canonicalize_name(requirement.name))
        assert pinned and all(requirement.specifier.contains(v) for v in pinned)
    runtime = read_lock("runtime.lock")
    for key, (version, hashes) in build.items():
        assert runtime.get(key, (version, hashes)) == (version, hashes), key
