"""Where an export's files are: this machine's file system, or an object store read through fsspec.

A local file is read with ``os.pread`` by the scan and the run reader, exactly as before object
storage was supported (``Store`` None). A file in an object store (``s3://``, ``gs://``,
``az://``, ...) is read by byte range (``Store.read``: one ranged GET per call). A ``Store`` is
only the protocol and the storage options, so it pickles small and never carries a connection:
each process (DuckDB engine worker, Spark Python worker) builds its own file system from it, once.

Credentials and endpoints come from each backend's own configuration (AWS variables and profiles,
``AWS_ENDPOINT_URL`` for S3-compatible stores, Google application default credentials, Azure
variables) or from storage options given on the command line; option values are never logged.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hccwatch.errors import HccwatchError

__all__ = [
    "EXTRA",
    "ExportError",
    "Identity",
    "Store",
    "check_unchanged",
    "is_url",
    "local_identity",
    "parse_storage_options",
    "store_identity",
    "url_name",
]

# The optional dependency group that installs fsspec and its object-store backends.
EXTRA = "objectstore"
# The package that reads each protocol, for the message when it is not installed.
_BACKENDS = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
}
# Protocols a URL may name that are this machine's own files.
_LOCAL = frozenset({"file", "local"})
# Protocols refused: a Bulk Data server's file URLs need its access token; download them first.
_HTTP = frozenset({"http", "https"})


class ExportError(HccwatchError):
    """The export itself cannot be read (no such folder, a manifest that is not one, an object
    store that refuses access, a file that changed while the batch ran)."""


def is_url(text: str) -> bool:
    """A URL with a protocol (``s3://...``), as opposed to a path of this machine."""
    scheme, sep, _ = text.partition("://")
    # One letter would be a drive letter; a protocol name is letters, digits, + - .
    return (
        bool(sep)
        and len(scheme) > 1
        and scheme[0].isalpha()
        and all(c.isalnum() or c in "+-." for c in scheme)
    )


def protocol_of(url: str) -> str:
    return url.partition("://")[0].lower()


def url_name(url: str) -> str:
    """The last part of a URL's path (the export folder's or the manifest's name)."""
    rest = url.partition("://")[2].rstrip("/")
    return rest.rsplit("/", 1)[-1] or rest


def parse_storage_options(items: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """``KEY=VALUE`` strings (``--storage-option``) as sorted pairs. Raises ValueError naming the
    key only (a value may be a secret)."""
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError("a storage option is KEY=VALUE")
        if key in pairs:
            raise ValueError(f"storage option {key} is given twice")
        pairs[key] = value
    return tuple(sorted(pairs.items()))


def _value(text: str) -> Any:
    # fsspec backends take booleans (anon=true) and, for a few options, objects
    # (client_kwargs={"region_name": ...}); anything else is passed as the string given.
    import json

    if text in ("true", "false"):
        return text == "true"
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


# One file system per process and store: built on first use in each process, never inherited
# through fork or pickled (its connections belong to the process that opened them).
_FILE_SYSTEMS: dict[tuple[int, str, tuple[tuple[str, str], ...]], Any] = {}


@dataclass(frozen=True)
class Store:
    """An object store: its protocol and the storage options passed to its fsspec backend."""

    protocol: str
    options: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:  # the option values may be secrets
        return f"Store({self.protocol!r}, options={[k for k, _ in self.options]})"

    def fs(self) -> Any:
        key = (os.getpid(), self.protocol, self.options)
        found = _FILE_SYSTEMS.get(key)
        if found is None:
            for other in [k for k in _FILE_SYSTEMS if k[0] != key[0]]:
                del _FILE_SYSTEMS[other]  # a forked parent's
            found = _FILE_SYSTEMS[key] = self._build()
        return found

    def _build(self) -> Any:
        missing = ExportError(
            f"reading {self.protocol}:// URLs needs the {_BACKENDS.get(self.protocol, 'fsspec backend')} "
            f"package: pip install 'hccwatch[{EXTRA}]'"
        )
        try:
            import fsspec
        except ImportError:
            raise missing from None
        try:
            cls = fsspec.get_filesystem_class(self.protocol)
        except ImportError:
            raise missing from None
        except ValueError:
            raise ExportError(f"{self.protocol}:// is not a storage protocol fsspec knows") from None
        options = {k: _value(v) for k, v in self.options}
        try:
            # skip_instance_cache: fsspec's own cache would hand the same object to every Store.
            return cls(skip_instance_cache=True, **options)
        except Exception as exc:
            raise ExportError(
                f"{self.protocol}:// store cannot be set up with the storage options given "
                f"({', '.join(options) or 'none'}): {type(exc).__name__}"
            ) from None

    def path(self, url: str) -> str:
        """The backend's path of a URL of this store (``bucket/key``)."""
        return str(self.fs()._strip_protocol(url))

    def url(self, path: str) -> str:
        return f"{self.protocol}://{path}"

    def failure(self, path: str, exc: BaseException) -> ExportError:
        """What went wrong reading ``path``, in a sentence."""
        where = self.url(path)
        if isinstance(exc, ExportError):
            return exc
        if isinstance(exc, FileNotFoundError):
            return ExportError(f"{where}: not found (no such bucket, folder or object)")
        if isinstance(exc, PermissionError):
            return ExportError(
                f"{where}: access denied (check the {self.protocol} credentials of this machine)"
            )
        return ExportError(f"{where}: cannot be read ({type(exc).__name__}: {exc})")

    def info(self, path: str) -> dict[str, Any]:
        try:
            return dict(self.fs().info(path))
        except Exception as exc:
            raise self.failure(path, exc) from None

    def file_info(self, path: str) -> dict[str, Any] | None:
        """A file's details; None when there is no such file (nothing there, or a folder)."""
        try:
            info = dict(self.fs().info(path))
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise self.failure(path, exc) from None
        return info if info.get("type") == "file" else None

    def listing(self, path: str) -> list[dict[str, Any]]:
        try:
            return [dict(e) for e in self.fs().ls(path, detail=True)]
        except Exception as exc:
            raise self.failure(path, exc) from None

    def read(self, path: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (excluded) of a file: one ranged read; fewer at the end."""
        if end <= start:
            return b""
        try:
            return bytes(self.fs().cat_file(path, start=start, end=end))
        except Exception as exc:
            if _past_the_end(exc):
                return b""  # the file is shorter than when it was listed: the caller says so
            raise self.failure(path, exc) from None

    def read_many(self, ranges: Sequence[tuple[str, int, int]]) -> list[bytes]:
        """``read`` of each (path, start, end); an asynchronous backend (s3fs, gcsfs, adlfs) sends
        the requests at once, so a patient whose lines lie in several files waits for about one
        request, not one per file."""
        if not ranges:
            return []
        if len(ranges) == 1:
            return [self.read(*ranges[0])]
        try:
            paths, starts, ends = (list(column) for column in zip(*ranges, strict=True))
            got = self.fs().cat_ranges(paths, starts, ends, on_error="return")
        except Exception as exc:
            raise self.failure(ranges[0][0], exc) from None
        out: list[bytes] = []
        for (path, _, _), item in zip(ranges, got, strict=True):
            if isinstance(item, Exception):
                if not _past_the_end(item):
                    raise self.failure(path, item)
                item = b""
            out.append(bytes(item))
        return out

    def text(self, path: str) -> str:
        try:
            return bytes(self.fs().cat_file(path)).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ExportError(f"{self.url(path)}: not UTF-8 ({exc.reason})") from None
        except Exception as exc:
            raise self.failure(path, exc) from None


# HTTP 416 (Range Not Satisfiable): the range starts past the object's end.
_PAST_THE_END = 416


def _past_the_end(exc: BaseException) -> bool:
    """The store answered that the range starts past the object's end (it is shorter than when it
    was listed), told by the backend's status field on the exception or on its cause."""
    cause: BaseException | None = exc
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if _status(cause) == _PAST_THE_END:
            return True
        cause = cause.__cause__
    # The one backend without a field for it: gcsfs's reader of zonal buckets raises a bare
    # RuntimeError("Request not satisfiable.") before any request is sent.
    return type(exc) is RuntimeError and "not satisfiable" in str(exc).lower()


def _status(exc: BaseException) -> int | None:
    """The HTTP status an object-store exception carries, where its backend keeps one."""
    # botocore's ClientError (s3fs raises an OSError caused by it): the parsed response.
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        if response.get("Error", {}).get("Code") == "InvalidRange":
            return _PAST_THE_END
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status if isinstance(status, int) else None
    # azure.core's HttpResponseError (adlfs), gcsfs's HttpError, aiohttp's ClientResponseError.
    for name in ("status_code", "code", "status"):
        value = getattr(exc, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def store_for(url: str, options: tuple[tuple[str, str], ...] = ()) -> Store | None:
    """The store of a URL; None for this machine's files (``file://``). Raises ExportError for
    protocols that cannot be a Bulk export's location."""
    protocol = protocol_of(url)
    if protocol in _LOCAL:
        return None
    if protocol in _HTTP:
        raise ExportError(
            f"{url} is a web address; download the files first or copy them to an object store "
            "(hccwatch batch reads a folder, a manifest or an object-store URL)"
        )
    return Store(protocol, options)


def join(base: str, relative: str) -> str:
    """A path relative to a folder of an object store (``..`` resolved, never above the bucket)."""
    joined = posixpath.normpath(posixpath.join(base, relative))
    bucket = base.split("/", 1)[0]
    if joined != bucket and not joined.startswith(bucket + "/"):
        raise ExportError(f"{relative} points outside the bucket {bucket}")
    return joined


def changed(name: str, what: str = "its size") -> ExportError:
    return ExportError(
        f"{name} changed while the batch ran ({what} is not what it was when the export was listed); "
        "run it again"
    )


# What a file was when the export was listed, as (what, value) pairs: enough to tell that it was
# rewritten or replaced since, even at the same size (a file's content is never read twice for it).
Identity = tuple[tuple[str, str], ...]

# An object's identity in each fsspec backend's details: S3 ETag and VersionId (versioned
# buckets), Google Cloud Storage etag and generation, Azure Blob etag and version_id. A listing
# may give fewer of them than a request for one object; only those both give are compared.
_STORE_KEYS = frozenset({"etag", "versionid", "version_id", "generation"})
# What each part of an identity is called in the message when it differs, in the order checked.
_WHAT = {
    "size": "its size",
    "device": "its file system",
    "inode": "its inode (the file was replaced)",
    "mtime_ns": "its modification time",
    "etag": "its ETag",
    "versionid": "its version",
    "version_id": "its version",
    "generation": "its generation",
}


def local_identity(path: Path | str) -> Identity:
    """A file of this machine: size, modification time (ns), inode and device (``os.stat``)."""
    st = os.stat(path)
    return (
        ("size", str(st.st_size)),
        ("device", str(st.st_dev)),
        ("inode", str(st.st_ino)),
        ("mtime_ns", str(st.st_mtime_ns)),
    )


def store_identity(info: dict[str, Any]) -> Identity:
    """An object, from its fsspec details (``Store.file_info`` or a listing's entry)."""
    pairs = [("size", str(int(info["size"])))]
    for key, value in info.items():
        lowered = key.lower()
        if lowered in _STORE_KEYS and value is not None and str(value) != "":
            pairs.append((lowered, str(value)))
    return tuple(sorted(pairs, key=lambda p: list(_WHAT).index(p[0])))


def difference(before: Identity, now: Identity) -> str | None:
    """What differs between two identities of one file, in words; None when nothing both hold does."""
    current = dict(now)
    for key, value in before:
        if key in current and current[key] != value:
            return _WHAT.get(key, key)
    return None


def check_unchanged(
    files: Sequence[Path | str],
    names: Sequence[str],
    identities: Sequence[Identity],
    store: Store | None = None,
) -> None:
    """Raises ExportError naming the first file that is not what it was when the export was
    listed (``identities``): rewritten, replaced or removed. One ``stat`` (this machine) or one
    request for the object's details (an object store) per file."""
    for path, name, before in zip(files, names, identities, strict=True):
        if store is None:
            try:
                now = local_identity(path)
            except FileNotFoundError:
                raise ExportError(f"{name} was removed while the batch ran; run it again") from None
            except OSError as exc:
                raise ExportError(f"{name}: cannot be read ({exc.strerror})") from None
        else:
            key = str(path)
            name = store.url(key)
            # Asked again, not answered from the listing the file system keeps.
            store.fs().invalidate_cache(key)
            info = store.file_info(key)
            if info is None:
                raise ExportError(f"{name} was removed while the batch ran; run it again")
            now = store_identity(info)
        what = difference(before, now)
        if what is not None:
            raise changed(name, what)
