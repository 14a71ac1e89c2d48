"""SHA-256 of a file, read in blocks: the one checksum the library records and compares.

A leaf module (standard library only), so every layer can use it: the trainer's
backups name their weights by it, and the FID weights are checked against it.
"""

import hashlib

__all__ = ["sha256_of_file"]


def sha256_of_file(path, block_size=1 << 20):
    """The hex SHA-256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(block_size), b""):
            digest.update(block)
    return digest.hexdigest()
