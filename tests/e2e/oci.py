"""Blobs of an OCI image layout tarball (`docker buildx build --output type=oci`, buildctl's
`--output type=oci`): shared by tests/e2e/platforms.py, tests/e2e/current/llb_compare.py and,
through tests/e2e/buildkit/common.py, provenance.py and repro.py."""

from __future__ import annotations

import json
import tarfile


def oci_blob(tar: tarfile.TarFile, digest: str) -> bytes:
    """The blob `digest` (`sha256:...`) of an OCI layout tarball; b"" if it is not a regular
    file, KeyError if it is missing."""
    f = tar.extractfile("blobs/" + digest.replace(":", "/", 1))
    return f.read() if f else b""


def oci_json(tar: tarfile.TarFile, digest: str) -> dict:
    """The blob `digest` as JSON (an index, a manifest, a config, an attestation); {} when
    empty."""
    return json.loads(oci_blob(tar, digest) or b"{}")
