"""The app's wheel set (agent_files/wheels.py): which platforms it is fetched for, its
content address, the committed manifest checked against app/requirements.txt, and the
cache that makes PyPI a once-per-set affair. The host side (deploy.sh unpacking and
checking the set, pip with no index) is in tests/apm and tests/remote."""
from __future__ import annotations

import hashlib
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agent_files import tarball, wheels
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
    (wheels.Target("3.11", "2.36", "i686"), "manylinux2014_i686", True),
    (wheels.Target("3.11", "2.36", "i686"), "manylinux1_i686", True),
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


def test_processes_filling_one_cold_cache_at_once_all_get_the_whole_set(tmp_path, monkeypatch):
    """Test workers (or two `pulumi up`s) fetching the same set at the same moment: each
    downloads, then each writes the cache; none fails and the tar is the set's, whole."""
    files = {"x-1-py3-none-any.whl": b"x" * 100_000, "pip-26-py3-none-any.whl": b"p" * 100_000}
    manifest = "".join(f"{hashlib.sha256(c).hexdigest()}  {n}\n" for n, c in files.items())
    wheel_set = wheels.WheelSet(wheels.set_id(wheels.parse_manifest(manifest)), manifest)
    downloaded = threading.Barrier(4)

    def pip(args):  # pip download's effect, then wait until every caller has downloaded
        dest = Path(args[args.index("-d") + 1])
        dest.mkdir(parents=True)
        for name, content in files.items():
            (dest / name).write_bytes(content)
        downloaded.wait(timeout=30)
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(wheels, "_pip", pip)
    with ThreadPoolExecutor(max_workers=4) as pool:
        tars = list(pool.map(lambda _: wheels.ensure(wheel_set, root=tmp_path), range(4)))
    expected = tarball.build(wheels.archive_members(files))
    assert [t.read_bytes() == expected for t in tars] == [True] * 4
    assert sorted(p.name for p in (tmp_path / wheels.CACHE).rglob("*")) == \
        sorted([wheel_set.id, f"{wheel_set.id}.tar", *files]), "no partial file is left behind"


PIP_FAILURES = [  # (case, pip's stderr, the reason the one line gives)
    ("pip's first ERROR line, not its warnings",
     "WARNING: Retrying...\nERROR: Could not find a version that satisfies the requirement "
     "flask==3.1.3\nERROR: No matching distribution found for flask==3.1.3\n",
     "(ERROR: Could not find a version that satisfies the requirement flask==3.1.3)"),
    ("the first line when pip printed no ERROR", "\n  WARNING: Retrying (1/5)\nnetwork down\n",
     "(WARNING: Retrying (1/5))"),
    ("a stock reason when pip printed nothing", "", "(pip failed)"),
    ("a long line cut at 300 characters", "ERROR: " + "x" * 400, "(ERROR: " + "x" * 293 + ")"),
]


@pytest.mark.parametrize("case,stderr,reason", PIP_FAILURES, ids=[c[0] for c in PIP_FAILURES])
def test_a_cold_cache_with_no_pypi_is_one_line_giving_pips_reason_and_what_to_do(
        tmp_path, monkeypatch, case, stderr, reason):
    monkeypatch.setattr(wheels, "_pip", lambda args: subprocess.CompletedProcess([], 1, "", stderr))
    with pytest.raises(wheels.WheelsError) as error:
        wheels.ensure(wheels.load(), root=tmp_path)
    wheel_set = wheels.load()
    assert str(error.value) == (
        f"the app's wheels ({wheel_set.id[:16]}) are not in build/app-wheels/ and pip could not "
        f"download them {reason}: run `make app-wheels` where PyPI is reachable, or copy "
        "build/app-wheels/ from a machine that has it"), case
    assert not (tmp_path / wheels.load().archive).exists(), "no half-built set is left to be shipped"


def test_wheels_that_differ_from_the_manifest_are_refused_and_nothing_is_cached(tmp_path, monkeypatch):
    wheel_set = wheels.load()
    monkeypatch.setattr(wheels, "_pip", _fake_download({name: b"other bytes" for name in
                                                        wheels.parse_manifest(wheel_set.manifest)}))
    with pytest.raises(wheels.WheelsError) as error:
        wheels.ensure(wheel_set, root=tmp_path)
    assert str(error.value) == (f"the wheels downloaded for set {wheel_set.id[:16]} differ from "
                                "wheels.sha256: run `make app-wheels-lock`")
    assert not (tmp_path / wheels.CACHE).exists(), "no wrong wheel is kept in the cache"


def _fake_download(files: dict[str, bytes]):
    """pip download as far as lock() sees it: the wheels land in the -d directory."""
    def pip(args):
        dest = Path(args[args.index("-d") + 1])
        dest.mkdir(parents=True, exist_ok=True)  # pip makes the -d directory
        for name, content in files.items():
            (dest / name).write_bytes(content)
        return subprocess.CompletedProcess(args, 0, "", "")
    return pip


def test_lock_pins_each_downloaded_wheel_by_its_sha256_and_asks_for_pip_too(monkeypatch):
    files = {"flask-3.1.3-py3-none-any.whl": b"f", "pip-26.0-py3-none-any.whl": b"p"}
    asked = []
    fake = _fake_download(files)
    monkeypatch.setattr(wheels, "_pip", lambda args: asked.append(args) or fake(args))
    locked = wheels.lock(DEBIAN_12, Path("r.txt"))
    assert locked == {n: hashlib.sha256(c).hexdigest() for n, c in files.items()}
    assert wheels.INSTALLER in asked[0] and asked[0][asked[0].index("-r") + 1] == "r.txt", \
        "the set carries pip's own wheel besides the requirements (deploy.sh installs with it)"


def test_locking_again_to_the_same_wheels_rewrites_the_committed_manifest_byte_for_byte():
    committed = wheels.MANIFEST.read_text()
    assert wheels.render_manifest(wheels.parse_manifest(committed), wheels.TARGET) == committed, \
        "`make app-wheels-lock` with nothing new leaves no diff to review"


def test_a_locked_manifest_reads_back_as_the_same_set_sorted_with_its_target_named():
    locked = {"z-1-py3-none-any.whl": B, "a-1-py3-none-any.whl": A}
    text = wheels.render_manifest(locked, DEBIAN_12)
    assert wheels.parse_manifest(text) == locked
    lines = [l for l in text.splitlines() if not l.startswith("#")]
    assert lines == [f"{A}  a-1-py3-none-any.whl", f"{B}  z-1-py3-none-any.whl"], "sorted, sha256sum -c's form"
    assert DEBIAN_12.describe() in text and "make app-wheels-lock" in text, "the header says for what and how"


def test_a_failed_lock_is_one_line_naming_the_target_and_pips_reason(monkeypatch):
    monkeypatch.setattr(wheels, "_pip", lambda args: subprocess.CompletedProcess(
        args, 1, "", "ERROR: No matching distribution found for flask==9\n"))
    with pytest.raises(wheels.WheelsError) as error:
        wheels.lock(DEBIAN_12)
    assert str(error.value) == (f"pip could not resolve app/requirements.txt for {DEBIAN_12.describe()}: "
                                "ERROR: No matching distribution found for flask==9")


def test_the_offline_plan_says_in_one_line_how_to_fill_a_cold_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(plan, "ROOT", tmp_path)
    note = plan.wheels_note()
    assert "not cached yet" in note and "make app-wheels" in note and "\n" not in note


# --- with pip itself: the arguments as pip reads them, from a local index (no network) -----

def _wheel(directory: Path, filename: str) -> bytes:
    """A minimal valid wheel (PEP 427: the .dist-info's METADATA, WHEEL and RECORD)."""
    import zipfile

    name, version, *_, tag = filename[:-len(".whl")].split("-")
    info = f"{name}-{version}.dist-info"
    path = directory / filename
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        archive.writestr(f"{info}/WHEEL", f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n"
                                          f"Tag: {'-'.join(filename[:-4].split('-')[2:])}\n")
        archive.writestr(f"{info}/RECORD", "")
    return path.read_bytes()


INDEX = [  # (wheel in the local index, fetched for Debian 12's CPython 3.11 on x86_64)
    ("native-1.0-cp311-cp311-manylinux_2_36_x86_64.whl", True),
    ("native-1.0-cp311-cp311-manylinux_2_39_x86_64.whl", False),  # glibc newer than the host's
    ("native-1.0-cp311-cp311-manylinux_2_36_aarch64.whl", False),
    ("stable-1.0-cp37-abi3-manylinux2014_x86_64.whl", True),       # the stable ABI, legacy tag
    ("pure-1.0-py3-none-any.whl", True),
    ("pip-26.0-py3-none-any.whl", True),                           # the installer lock() adds
]


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """pip reads only this directory: no index, no find-links of the machine's own."""
    index = tmp_path / "index"
    index.mkdir()
    contents = {name: _wheel(index, name) for name, _ in INDEX}
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("native==1.0\nstable==1.0\npure==1.0\n")
    return requirements, contents


def test_lock_through_pip_pins_the_wheels_the_host_can_run_and_only_those(local_index):
    requirements, contents = local_index
    locked = wheels.lock(DEBIAN_12, requirements)
    wanted = {name for name, fetched in INDEX if fetched}
    assert set(locked) == wanted, "pip, given download_args, picks the host's platform and no other"
    assert locked == {name: hashlib.sha256(contents[name]).hexdigest() for name in wanted}


def test_a_cold_cache_is_filled_through_pip_by_hash_and_packed(local_index, tmp_path):
    requirements, contents = local_index
    wanted = {name: hashlib.sha256(contents[name]).hexdigest() for name, fetched in INDEX if fetched}
    manifest = wheels.render_manifest(wanted, DEBIAN_12)
    wheel_set = wheels.WheelSet(wheels.set_id(wheels.parse_manifest(manifest)), manifest)
    root = tmp_path / "project"
    archive = wheels.ensure(wheel_set, root=root, target=DEBIAN_12)
    cached = {p.name: p.read_bytes() for p in (root / wheels.CACHE / wheel_set.id).iterdir()}
    assert cached == {name: contents[name] for name in wanted}, "the set's wheels, byte for byte"
    assert archive == root / wheel_set.archive and archive.is_file()
    import tarfile
    with tarfile.open(archive) as tar:
        modes = {m.name: m.mode for m in tar.getmembers() if m.isfile()}
    assert modes and set(modes.values()) == {0o644}, f"wheels are data, not programs: {modes}"
    assert not list(archive.parent.glob("*.partial")), "the tar is renamed into place whole"


def test_a_download_whose_bytes_differ_from_the_manifest_is_refused_by_pip(local_index, tmp_path):
    requirements, contents = local_index
    forged = {name: "0" * 64 for name, fetched in INDEX if fetched}
    manifest = wheels.render_manifest(forged, DEBIAN_12)
    wheel_set = wheels.WheelSet(wheels.set_id(forged), manifest)
    with pytest.raises(wheels.WheelsError) as error:
        wheels.ensure(wheel_set, root=tmp_path / "project", target=DEBIAN_12)
    assert "pip could not download them (ERROR: THESE PACKAGES DO NOT MATCH THE HASHES" in str(error.value)
    assert not (tmp_path / "project" / wheel_set.archive).exists()


def test_a_pip_that_does_not_finish_is_stopped_and_reported_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(wheels, "PIP_TIMEOUT_SECONDS", 0.01)  # pip itself takes longer to start
    with pytest.raises(wheels.WheelsError) as error:
        wheels.lock(DEBIAN_12)
    assert str(error.value) == (f"pip could not resolve app/requirements.txt for {DEBIAN_12.describe()}: "
                                "ERROR: pip did not finish in 0.01 s (stopped)"), "not a traceback"
