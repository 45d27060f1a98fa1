"""``.npz`` archives written byte for byte reproducibly: fixed timestamps and order, no pickle."""

from __future__ import annotations

import io
import pathlib
import zipfile
from typing import Any

import numpy as np

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def write_npz(
    path: pathlib.Path, arrays: dict[str, np.ndarray[Any, Any]], *, compress: bool = False
) -> bytes:
    """Write ``arrays`` in the given order; the same arrays always give the same bytes."""
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, array, allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = method
            archive.writestr(info, member.getvalue())
    blob = buffer.getvalue()
    pathlib.Path(path).write_bytes(blob)
    return blob
