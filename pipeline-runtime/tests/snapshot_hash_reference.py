#!/usr/bin/env python3
"""Prints the hashes Microsoft's Python SDK gives a snapshot folder or file.

Used only to regenerate the constants in `snapshot.rs` and to compare with the bench; CI does
not install azure-ai-ml. Needs `pip install azure-ai-ml==1.35.2`.

    snapshot_hash_reference.py PATH [PATH ...]   # content hash, object hash and time per path
    snapshot_hash_reference.py --fixtures DIR    # Rust table for the fixtures written by
                                                 # `cargo test --test snapshot -- --ignored write_fixtures`

The ignore file is obtained as `_check_and_upload_path` and `Code` obtain it:
`get_ignore_file(path)` (root `.amlignore`, else root `.gitignore`).
"""

import os
import sys
import time

from azure.ai.ml._utils._asset_utils import (
    get_content_hash,
    get_content_hash_version,
    get_ignore_file,
    get_object_hash,
)


def hashes(path):
    start = time.perf_counter()
    content = get_content_hash(path, get_ignore_file(path))
    content_seconds = time.perf_counter() - start
    # A fresh IgnoreFile, as each SDK call site builds its own.
    start = time.perf_counter()
    obj = get_object_hash(path, get_ignore_file(path))
    object_seconds = time.perf_counter() - start
    return content, obj, content_seconds, object_seconds


def main(argv):
    assert get_content_hash_version() == 202208
    if argv[:1] == ["--fixtures"]:
        base = argv[1]
        for name in sorted(os.listdir(base)):
            with open(os.path.join(base, name, "ROOT"), encoding="utf-8") as fh:
                root = os.path.join(base, name, fh.read().strip())
            content, obj, _, _ = hashes(root)
            print(f'    ("{name}", "{content}", "{obj}"),')
        return
    for path in argv:
        content, obj, content_s, object_s = hashes(path)
        print(
            f"{path}\n  content_hash {content}  ({content_s * 1000:.0f} ms)"
            f"\n  object_hash  {obj}  ({object_s * 1000:.0f} ms)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
