#!/usr/bin/env python
"""Install ansible.windows and amazon.aws offline from the ``ansible`` wheel on PyPI.

Users install the collection's dependencies from Galaxy (``ansible-galaxy collection install -r
requirements.yml``). Our machines reach PyPI but not Galaxy, and the ``ansible`` package on PyPI
bundles both collections, so the test environment takes them from that wheel: pip downloads it
(pinned by version and sha256) and only the two collection trees are extracted.
"""

from __future__ import annotations

import argparse
import hashlib
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

COLLECTIONS = ("ansible/windows", "amazon/aws")


def download_wheel(version: str, sha256: str, wheel_dir: pathlib.Path) -> pathlib.Path:
    """Download the ``ansible`` wheel once and check its digest (the cache survives re-runs)."""
    wheel = wheel_dir / f"ansible-{version}-py3-none-any.whl"
    if not wheel.exists():
        wheel_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--dest", str(wheel_dir), f"ansible=={version}"],
            check=True,
        )
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != sha256:
        wheel.unlink()
        raise SystemExit(f"{wheel}: sha256 {digest} does not match the pinned {sha256}; removed it, run again")
    return wheel


def extract_collections(wheel: pathlib.Path, dest: pathlib.Path) -> None:
    """Replace ``dest/ansible_collections/<ns>/<name>`` with the wheel's copy, atomically per collection."""
    prefixes = tuple(f"ansible_collections/{name}/" for name in COLLECTIONS)
    with zipfile.ZipFile(wheel) as archive, tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        members = [m for m in archive.namelist() if m.startswith(prefixes)]
        archive.extractall(tmp, members)
        for name in COLLECTIONS:
            target = dest / "ansible_collections" / name
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(pathlib.Path(tmp) / "ansible_collections" / name), str(target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True, help="ansible package version, e.g. 12.3.0")
    parser.add_argument("--sha256", required=True, help="sha256 of the ansible wheel")
    parser.add_argument("--wheel-dir", required=True, type=pathlib.Path)
    parser.add_argument("--dest", required=True, type=pathlib.Path, help="collections path to fill")
    args = parser.parse_args()
    args.dest.mkdir(parents=True, exist_ok=True)
    wheel = download_wheel(args.version, args.sha256, args.wheel_dir)
    extract_collections(wheel, args.dest.resolve())


if __name__ == "__main__":
    main()
