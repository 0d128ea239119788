"""The app's wheel set (agent_files/wheels.py): which platforms it is fetched for, its
content address, the committed manifest checked against app/requirements.txt, and the
cache that makes PyPI a once-per-set affair. The host side (deploy.sh unpacking and
checking the set, pip with no index) is in tests/apm and tests/remote."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from agent_files import wheels
from tools import plan

DEBIAN_12 = wheels.Target("3.11", "2.36", "x86_64")
A, B = "a" * 64, "b" * 64


PLATFORM_CASES = [  # (target, tag, accepted): manylinux_2_X runs on glibc >= 2.X (PEP 600)
    (DEBIAN_12, "manylinux_2_36_x86_64", True),
    (DEBIAN_12, "manylinux_2_17_x86_64", True),
    (DEBIAN_12, "manylinux2014_x86_64", True),
    (DEBIAN_12, "manylinux1_x86_64", True),
    (DEBIAN_12, "manylinux_2_37_x86_64", False),
    (DEBIAN_12, "manylinux_2_36_aarch64", False),
    (wheels.Target("3.12", "2.39", "aarch64"), "manylinux2014_aarch64", True),
    (wheels.Target("3.12", "2.39", "aarch64"), "manylinux1_x86_64", False),
]


@pytest.mark.parametrize("target,tag,accepted", PLATFORM_CASES)
def test_wheels_are_fetched_for_every_platform_tag_the_host_runs_and_no_other(target, tag, accepted):
    assert (tag in wheels.platforms(target)) == accepted, \
        f"{tag} on {target.describe()}: a wheel for glibc newer than the host's would not load"


def test_download_asks_pip_for_the_hosts_python_not_this_machines():
    args = wheels.download_args(wheels.Target("3.12", "2.39", "x86_64"), Path("r.txt"), Path("d"))
    assert args[args.index("--python-version") + 1] == "3.12"
    assert "cp312" in args and "--only-binary=:all:" in args and args[args.index("--implementation") + 1] == "cp"


def test_the_set_id_depends_on_the_wheels_not_on_their_order_or_comments():
    one = wheels.parse_manifest(f"# header\n{A}  x-1-py3-none-any.whl\n{B}  y-2-py3-none-any.whl\n")
    other = wheels.parse_manifest(f"{B}  y-2-py3-none-any.whl\n\n{A}  x-1-py3-none-any.whl\n")
    changed = wheels.parse_manifest(f"{B}  x-1-py3-none-any.whl\n{B}  y-2-py3-none-any.whl\n")
    assert wheels.set_id(one) == wheels.set_id(other), "same wheels, same id"
    assert wheels.set_id(changed) != wheels.set_id(one), "other bytes, another id"


def test_the_set_id_is_the_sha256_of_the_sorted_manifest_lines_as_deploy_sh_computes_it():
    text = wheels.MANIFEST.read_text()
    shell = subprocess.run(["bash", "-c", "grep -v -e '^#' -e '^$' | LC_ALL=C sort | sha256sum"],
                           input=text, capture_output=True, text=True, check=True).stdout
    assert shell.split()[0] == wheels.load().id, "deploy.sh names the set's dir by the same id"


def test_a_bad_manifest_line_is_named_by_its_number():
    with pytest.raises(wheels.WheelsError, match=r"app/wheels.sha256 line 2: expected"):
        wheels.parse_manifest(f"{A}  x-1-py3-none-any.whl\nnot a line\n")


MISSING_CASES = [  # (case, requirements, manifest lines, named in the error)
    ("a pin the set lacks", "flask==3.1.3\n", [f"{A}  pip-26-py3-none-any.whl"], "flask==3.1.3"),
    ("a pin of another version", "flask==3.1.3\n",
     [f"{A}  Flask-3.1.2-py3-none-any.whl", f"{B}  pip-26-py3-none-any.whl"], "flask==3.1.3"),
    ("no pip to install with", "flask==3.1.3\n", [f"{A}  flask-3.1.3-py3-none-any.whl"], "pip"),
]


@pytest.mark.parametrize("case,requirements,lines,named", MISSING_CASES, ids=[c[0] for c in MISSING_CASES])
def test_a_manifest_that_does_not_hold_the_pins_is_one_line_saying_to_lock_again(
        tmp_path, case, requirements, lines, named):
    (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "wheels.sha256").write_text("\n".join(lines) + "\n")
    with pytest.raises(wheels.WheelsError) as error:
        wheels.load(tmp_path / "wheels.sha256", tmp_path / "requirements.txt")
    message = str(error.value)
    assert named in message and "make app-wheels-lock" in message and "\n" not in message, case


def test_the_committed_manifest_holds_every_pin_of_the_apps_requirements():
    wheel_set = wheels.load()  # raises WheelsError naming a missing pin
    assert wheel_set.id == wheels.set_id(wheels.parse_manifest(wheel_set.manifest))


def _cached_set(root: Path) -> wheels.WheelSet:
    """A two-wheel set whose files are already in root's cache dir."""
    files = {"x-1-py3-none-any.whl": b"x", "pip-26-py3-none-any.whl": b"p"}
    manifest = "".join(f"{hashlib.sha256(c).hexdigest()}  {n}\n" for n, c in files.items())
    wheel_set = wheels.WheelSet(wheels.set_id(wheels.parse_manifest(manifest)), manifest)
    (root / wheels.CACHE / wheel_set.id).mkdir(parents=True)
    for name, content in files.items():
        (root / wheels.CACHE / wheel_set.id / name).write_bytes(content)
    return wheel_set


def test_a_cached_set_is_packed_without_asking_pip_and_the_same_bytes_each_time(tmp_path, monkeypatch):
    monkeypatch.setattr(wheels, "_pip", lambda args: pytest.fail("pip ran with the set cached"))
    wheel_set = _cached_set(tmp_path)
    first = wheels.ensure(wheel_set, root=tmp_path).read_bytes()
    (tmp_path / wheel_set.archive).unlink()
    assert wheels.ensure(wheel_set, root=tmp_path).read_bytes() == first, \
        "the set's tar is deterministic: same wheels, same bytes, same asset hash"


def test_a_cold_cache_with_no_pypi_is_one_line_saying_what_to_do(tmp_path, monkeypatch):
    failed = subprocess.CompletedProcess([], 1, "", "WARNING: Retrying...\nERROR: Could not find a version "
                                                     "that satisfies the requirement flask==3.1.3\n")
    monkeypatch.setattr(wheels, "_pip", lambda args: failed)
    with pytest.raises(wheels.WheelsError) as error:
        wheels.ensure(wheels.load(), root=tmp_path)
    message = str(error.value)
    assert "\n" not in message and "make app-wheels" in message and "Could not find" in message, message
    assert not (tmp_path / wheels.load().archive).exists(), "no half-built set is left to be shipped"


def test_the_offline_plan_says_in_one_line_how_to_fill_a_cold_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(plan, "ROOT", tmp_path)
    note = plan.wheels_note()
    assert "not cached yet" in note and "make app-wheels" in note and "\n" not in note
