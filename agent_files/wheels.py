"""The app's dependencies as one content-addressed set of wheels, for hosts with no PyPI.

The set is pinned in app/wheels.sha256 (committed, `sha256sum` format: one wheel file and
its sha256 a line): every distribution app/requirements.txt needs on the hosts' Python
and platform (TARGET), its exact file and bytes. So the set's id -- the sha256 of that
manifest -- is known without a download: the plan shows it offline and it is part of the
release id on the host. The wheels themselves are fetched once on the machine that runs
`pulumi up` (`pip download --require-hashes`, which fails on any other bytes) into
build/app-wheels/<set id>/, packed into one deterministic tar beside it, and shipped by
components/apm_service.py; app/deploy.sh checks every file against the manifest and installs
with `pip install --no-index`.

Pure functions above the line `# --- on disk`; below it, the build and the cache.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from agent_files import tarball

ROOT = Path(__file__).resolve().parent.parent
APP_DIR = ROOT / "app"
MANIFEST = APP_DIR / "wheels.sha256"
REQUIREMENTS = APP_DIR / "requirements.txt"
# Relative to the project dir, where the Pulumi CLI and tools/plan run the program: the
# asset's path is then the same on every checkout (it is an input of the copy).
CACHE = Path("build/app-wheels")
MANIFEST_NAME = "wheels.sha256"  # its name in the app's bundle
# The set also carries pip's own wheel: deploy.sh makes the release's virtualenv without pip
# (no ensurepip, so no python3-venv package on Debian) and runs pip from that wheel.
INSTALLER = "pip"


@dataclass(frozen=True)
class Target:
    """What a host must be to run the set: CPython `python` (major.minor), Linux on
    `arch`, glibc at least `glibc` (manylinux wheels built for glibc 2.X run on 2.X and
    later: PEP 600)."""

    python: str
    glibc: str
    arch: str

    def describe(self) -> str:
        return f"CPython {self.python} on Linux {self.arch} with glibc >= {self.glibc}"


# The hosts' Python and platform: Debian 12 (bookworm), the documented VM image: its
# python3 is 3.11, its glibc 2.36. Another image (Ubuntu 24.04: 3.12, glibc 2.39) means
# another TARGET and `make app-wheels-lock` (docs/host-install.md, "Hosts without PyPI").
TARGET = Target(python="3.11", glibc="2.36", arch="x86_64")

_LINE = re.compile(r"^([0-9a-f]{64})  ([A-Za-z0-9_.+!-]+\.whl)$")


class WheelsError(Exception):
    """The wheel set cannot be had or does not match: one line saying what to do."""


def platforms(target: Target) -> list[str]:
    """pip's --platform values a host of `target` accepts, newest first: manylinux_2_X for
    every glibc from the host's down to 2.17 and the legacy aliases (pip does not expand a
    perennial manylinux tag on its own)."""
    major, minor = (int(part) for part in target.glibc.split("."))
    tags = [f"manylinux_{major}_{m}_{target.arch}" for m in range(minor, 16, -1)]
    if target.arch in ("x86_64", "i686"):
        tags += [f"manylinux2014_{target.arch}", f"manylinux2010_{target.arch}",
                 f"manylinux1_{target.arch}"]
    elif target.arch == "aarch64":
        tags.append(f"manylinux2014_{target.arch}")
    return tags


def download_args(target: Target, requirements: Path, dest: Path,
                  extra: tuple[str, ...] = ()) -> list[str]:
    """`pip download`'s arguments: binary wheels only, for the target's interpreter and
    platform, whatever this machine runs; `extra` requirements besides the file's."""
    return ["download", "--quiet", "--disable-pip-version-check", "--no-input",
            "--only-binary=:all:", "--implementation", "cp",
            # pip adds the stable ABI (abi3) and `none` to the ABIs it is given, for CPython
            # (its vendored packaging/tags.py, cpython_tags: "Stable ABIs and 'none' are
            # explicitly handled later"): the local-index test fetches both kinds.
            "--python-version", target.python, "--abi", f"cp{target.python.replace('.', '')}",
            *[arg for tag in platforms(target) for arg in ("--platform", tag)],
            "-r", str(requirements), *extra, "-d", str(dest)]


def parse_manifest(text: str, source: str = str(MANIFEST.relative_to(ROOT))) -> dict[str, str]:
    """Wheel file name -> sha256, from the manifest's lines (# comments allowed)."""
    wheels: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise WheelsError(f"{source} line {number}: expected '<sha256>  <file>.whl', "
                              f"got {line!r}")
        wheels[match.group(2)] = match.group(1)
    if not wheels:
        raise WheelsError(f"{source} lists no wheel: run `make app-wheels-lock`")
    return wheels


def render_manifest(wheels: dict[str, str], target: Target) -> str:
    """The manifest's text: sorted, one `<sha256>  <file>` line each (`sha256sum -c` reads it)."""
    header = (f"# The app's wheels for {target.describe()} (agent_files/wheels.py TARGET),\n"
              "# resolved from app/requirements.txt by `make app-wheels-lock`. Do not edit.\n")
    return header + "".join(f"{digest}  {name}\n" for name, digest in sorted(wheels.items()))


def set_id(wheels: dict[str, str]) -> str:
    """The set's content address: sha256 over its `<sha256>  <file>` lines sorted bytewise
    (deploy.sh's `wheel_set_id`: `LC_ALL=C sort | sha256sum`)."""
    lines = "".join(sorted(f"{digest}  {name}\n" for name, digest in wheels.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def _name_version(wheel: str) -> tuple[str, str]:
    name, version = wheel.split("-")[:2]
    return re.sub(r"[-_.]+", "-", name).lower(), version


def hashed_requirements(wheels: dict[str, str]) -> str:
    """The set as pip requirements with hashes (`pip download --require-hashes` then
    fetches exactly these bytes or fails)."""
    return "".join(f"{name}=={version} --hash=sha256:{digest}\n"
                   for name, version, digest in sorted(
                       (*_name_version(wheel), digest) for wheel, digest in wheels.items()))


def unpinned(requirements: str, wheels: dict[str, str]) -> list[str]:
    """app/requirements.txt's `name==version` pins that the set does not hold."""
    held = {_name_version(wheel) for wheel in wheels}
    missing = []
    for line in requirements.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, version = line.partition("==")
        if (re.sub(r"[-_.]+", "-", name).lower(), version) not in held:
            missing.append(line)
    return missing


def archive_members(files: dict[str, bytes]) -> dict[str, tuple[bytes, int]]:
    """The set's tar members (tarball.build): each wheel, mode 0644."""
    return {name: (content, 0o644) for name, content in files.items()}


@dataclass(frozen=True)
class WheelSet:
    """One set: its id, manifest text and where its tar is (relative to the project dir)."""

    id: str
    manifest: str

    @property
    def archive(self) -> Path:
        return CACHE / f"{self.id}.tar"


def load(manifest: Path = MANIFEST, requirements: Path = REQUIREMENTS) -> WheelSet:
    """The committed set (no download): checked against app/requirements.txt's pins."""
    try:
        text = manifest.read_text()
    except FileNotFoundError:
        raise WheelsError(f"{manifest} is missing: run `make app-wheels-lock`") from None
    wheels = parse_manifest(text)
    missing = unpinned(requirements.read_text(), wheels)
    if not any(_name_version(wheel)[0] == INSTALLER for wheel in wheels):
        missing.append(INSTALLER)
    if missing:
        raise WheelsError(f"{MANIFEST.name} does not hold {', '.join(missing)} that "
                          f"app/requirements.txt pins: run `make app-wheels-lock`")
    return WheelSet(set_id(wheels), text)


# --- on disk: the cache under the project dir, filled from PyPI once per set -------------

# pip retries an unreachable index for minutes (5 retries with back-off, 15 s timeout each);
# past this, a hung download is reported like any other pip failure.
PIP_TIMEOUT_SECONDS = 900


def _pip(args: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True,
                              text=True, timeout=PIP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(
            args, 1, "", f"ERROR: pip did not finish in {PIP_TIMEOUT_SECONDS} s (stopped)")


def _first_error(stderr: str) -> str:
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    errors = [l for l in lines if l.startswith("ERROR")]
    return (errors or lines or ["pip failed"])[0][:300]


def ensure(wheel_set: WheelSet, root: Path = ROOT, target: Target = TARGET) -> Path:
    """The set's tar under root/CACHE, downloading its wheels (hash-checked) only when it
    is not there yet. Returns the tar's absolute path; WheelsError with one line else."""
    archive = root / wheel_set.archive
    if archive.is_file():
        return archive
    wheels = parse_manifest(wheel_set.manifest)
    directory = root / CACHE / wheel_set.id
    with tempfile.TemporaryDirectory(prefix="app-wheels-") as tmp:
        tmp_path = Path(tmp)
        files = {name: (directory / name).read_bytes() for name in wheels
                 if (directory / name).is_file()}
        if set(files) != set(wheels):
            (tmp_path / "requirements.txt").write_text(hashed_requirements(wheels))
            done = _pip([*download_args(target, tmp_path / "requirements.txt", tmp_path / "wheels"),
                         "--no-deps", "--require-hashes"])
            if done.returncode:
                raise WheelsError(
                    f"the app's wheels ({wheel_set.id[:16]}) are not in {CACHE}/ and pip could "
                    f"not download them ({_first_error(done.stderr)}): run `make app-wheels` "
                    "where PyPI is reachable, or copy build/app-wheels/ from a machine that has it")
            files = {p.name: p.read_bytes() for p in (tmp_path / "wheels").iterdir()}
        got = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
        if got != wheels:
            raise WheelsError(f"the wheels downloaded for set {wheel_set.id[:16]} differ from "
                              f"{MANIFEST.name}: run `make app-wheels-lock`")
        directory.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            _write_whole(directory / name, content)
        _write_whole(archive, tarball.build(archive_members(files)))
    return archive


def _write_whole(path: Path, content: bytes) -> None:
    """`content` at `path`, whole or absent, even while another process fills the same cold
    cache (two `pulumi up`s, two test workers): each writes a file of its own beside it and
    renames it over `path`; the last rename wins, with the same bytes."""
    partial = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")
    try:
        partial.write_bytes(content)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def lock(target: Target = TARGET, requirements: Path = REQUIREMENTS) -> dict[str, str]:
    """Resolve app/requirements.txt for `target` from PyPI: wheel file name -> sha256."""
    with tempfile.TemporaryDirectory(prefix="app-wheels-lock-") as tmp:
        done = _pip(download_args(target, requirements, Path(tmp), extra=(INSTALLER,)))
        if done.returncode:
            raise WheelsError(f"pip could not resolve app/requirements.txt for "
                              f"{target.describe()}: {_first_error(done.stderr)}")
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(Path(tmp).iterdir())}
