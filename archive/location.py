"""Where an archive lives: a local folder or ``s3://bucket[/prefix]``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from archive.exceptions import ArchiveLocationError

S3_SCHEME = "s3://"


@dataclass(frozen=True, slots=True)
class Location:
    """A parsed archive location: ``bucket`` is None for a local folder (``root`` is its path)."""

    root: str
    bucket: str | None = None

    @property
    def is_s3(self) -> bool:
        return self.bucket is not None

    def key(self, relative: str) -> str:
        """The S3 key or local path of a key relative to the archive root."""
        if self.bucket is None:
            return os.path.join(self.root, *relative.split("/"))
        return f"{self.root}{relative}"

    def __str__(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.root}" if self.bucket is not None else self.root


def parse_location(location: str | os.PathLike[str]) -> Location:
    """Parse a location; an S3 prefix is normalized to end with ``/`` (or to be empty)."""
    text = os.fspath(location)
    if not text:
        raise ArchiveLocationError(text, "empty")
    if text.startswith(S3_SCHEME):
        bucket, _, prefix = text[len(S3_SCHEME) :].partition("/")
        if not bucket:
            raise ArchiveLocationError(text, "no bucket name after s3://")
        prefix = prefix.strip("/")
        return Location(root=f"{prefix}/" if prefix else "", bucket=bucket)
    if "://" in text:
        raise ArchiveLocationError(text, "only local folders and s3:// URLs are supported")
    return Location(root=text)


def make_s3_client(endpoint_url: str | None = None) -> Any:
    """An S3 client; without ``endpoint_url``, boto3 honours ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL``."""
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=endpoint_url)
