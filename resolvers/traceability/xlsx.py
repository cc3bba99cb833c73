"""A minimal XLSX (Office Open XML spreadsheet) written as a stream: one data sheet with a header row and an
autofilter (sortable and filterable as it opens), and an "About" sheet of key/value pairs written last, so it can
say when the file was finished.

The ZIP goes to a sink that is not seekable, so ``zipfile`` writes each entry with a data descriptor and nothing
needs to be held back: memory stays at one chunk, whatever the number of rows. Strings are inline (no shared
string table, which would need every string before the first row).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from xml.sax.saxutils import escape

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_BAD_XML = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)])


class _Sink:
    """A write-only file for ``zipfile``: what is written waits in memory until ``drain``."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts, self.size = [], 0
        return data


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None or value == "":
        return "<c/>" if value in (None, "") else f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f"<c><v>{value!r}</v></c>"
    text = escape(str(value).translate(_BAD_XML))
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _row(values: Iterable[Any]) -> str:
    return "<row>" + "".join(_cell(v) for v in values) + "</row>"


def _static(sheets: list[str]) -> dict[str, str]:
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    listed = "".join(f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(sheets, 1))
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    return {
        "[Content_Types].xml": _HEAD
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        + '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        + '<Default Extension="xml" ContentType="application/xml"/>'
        + f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>{overrides}</Types>',
        "_rels/.rels": _HEAD
        + f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
        + 'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": _HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{listed}</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": _HEAD + f'<Relationships xmlns="{_PKG}">{rels}</Relationships>',
    }


def workbook(
    sheet: str,
    columns: list[str],
    rows: Iterable[list[Any]],
    about: Callable[[int], list[tuple[str, Any]]],
    chunk_bytes: int = 64 * 1024,
) -> Iterator[bytes]:
    """The workbook in chunks. ``about(rows)`` gives the About sheet once every row is written."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5) as archive:
        for name, text in _static([sheet, "About"]).items():
            archive.writestr(name, text)
        count = 0
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(f'{_HEAD}<worksheet xmlns="{_MAIN}"><sheetData>{_row(columns)}'.encode())
            for values in rows:
                part.write(_row(values).encode())
                count += 1
                if sink.size >= chunk_bytes:
                    yield sink.drain()
            last = f"{_column(len(columns) - 1)}{count + 1}"
            part.write(f'</sheetData><autoFilter ref="A1:{last}"/></worksheet>'.encode())
        pairs = "".join(_row(pair) for pair in about(count))
        archive.writestr(
            "xl/worksheets/sheet2.xml", f'{_HEAD}<worksheet xmlns="{_MAIN}"><sheetData>{pairs}</sheetData></worksheet>'
        )
    yield sink.drain()
