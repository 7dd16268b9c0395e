#!/usr/bin/env python3
"""Bring the pinned browser libraries into static/vendor/ (git-ignored), verified.

The KPI home draws its charts with Apache ECharts, served from the project's own static files:
no CDN at run time (a merchant's network, or the Great Firewall, must not decide whether the
charts draw), and no copy of the library's code in git. This script downloads the pinned npm
tarball from the npm registry, checks it against the sha512 integrity npm publishes for it,
extracts the one file the pages use, and checks that file against its own pinned sha256.

Idempotent and offline-safe: when the extracted file is already there and its sha256 matches,
nothing is downloaded. A mismatch anywhere stops with an error and leaves no file behind.
`make run`, `make test` and `.ci/run` call it.

    python scripts/vendor.py           ensure every pinned file is present and verified
    python scripts/vendor.py --check   verify only (exit 1 when a file is missing or altered)
"""

import argparse
import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Pinned:
    name: str
    version: str
    tarball: str
    integrity: str  # npm's dist.integrity of the tarball
    member: str  # the file taken from the tarball
    target: str  # where it goes, under static/vendor/
    sha256: str  # of the extracted file
    license_member: str = "package/LICENSE"


PINNED = (
    Pinned(
        name="echarts",
        version="5.6.0",
        tarball="https://registry.npmjs.org/echarts/-/echarts-5.6.0.tgz",
        integrity="sha512-oTbVTsXfKuEhxftHqL5xprgLoc0k7uScAwtryCgWF6hPYFLRwOUHiFmHGCBKP5NPFNkDVopOieyUqYGH8Fa3kA==",
        member="package/dist/echarts.min.js",
        target="echarts/echarts.min.js",
        sha256="bf4a223524e40b77c304bec67e1222cf551f14880cf42c69dc046558e11c07b1",
    ),
)


class VendorError(Exception):
    pass


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verified_on_disk(pinned: Pinned) -> bool:
    path = VENDOR / pinned.target
    return path.is_file() and _sha256(path.read_bytes()) == pinned.sha256


def _check_integrity(pinned: Pinned, tarball: bytes) -> None:
    algorithm, _, expected = pinned.integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if digest != expected:
        raise VendorError(f"{pinned.name} {pinned.version}: the tarball does not match its pinned {algorithm}")


def _fetch(pinned: Pinned) -> None:
    print(f"vendor: downloading {pinned.name} {pinned.version}", file=sys.stderr)
    with urllib.request.urlopen(pinned.tarball, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - a pinned https URL
        tarball = response.read()
    _check_integrity(pinned, tarball)
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile(pinned.member)
        license_file = archive.extractfile(pinned.license_member)
        if member is None or license_file is None:
            raise VendorError(f"{pinned.name}: {pinned.member} is not a file in the tarball")
        content = member.read()
        license_text = license_file.read()
    if _sha256(content) != pinned.sha256:
        raise VendorError(f"{pinned.name}: {pinned.member} does not match its pinned sha256")
    target = VENDOR / pinned.target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside, then renamed: a reader never sees half a file.
    partial = target.with_suffix(target.suffix + ".partial")
    partial.write_bytes(content)
    partial.replace(target)
    (target.parent / "LICENSE").write_bytes(license_text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify only, download nothing")
    options = parser.parse_args(argv)
    failed = False
    for pinned in PINNED:
        if _verified_on_disk(pinned):
            continue
        if options.check:
            print(f"vendor: {pinned.target} is missing or altered", file=sys.stderr)
            failed = True
            continue
        try:
            _fetch(pinned)
        except (OSError, VendorError) as error:
            print(f"vendor: {error}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
