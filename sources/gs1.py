"""GS1 identifiers of lots: the EPC class URN and the GS1 Digital Link URI, and the lot id behind both.

A lot can be named three ways, and all three name the same lot:

- the plant's id (``LOT-000123``), which is also the lot's GS1 lot number (AI 10);
- an EPC class URN, ``urn:epc:class:lgtin:<company prefix>.<indicator + item ref>.<lot>`` (EPC Tag Data Standard);
- a GS1 Digital Link URI, ``https://<any resolver host>/01/<GTIN>/10/<lot>`` (GS1 Digital Link standard).

The URN syntax, its escapes and the GTIN check digit are read with ``epcpy`` (maintained, typed, TDS 2.x; it also
turns a GTIN and a lot back into a URN given the company prefix length, which a GTIN alone does not tell). The
Digital Link side is a path of two primary keys, parsed here: the one library for it on PyPI, ``epcdltranslator``,
translates only URN to Digital Link, and has not changed since 2019.

Anything that is neither form is a plain id and names itself (a plant id, or an EPC class that is not an LGTIN,
such as a GDST lot URN).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from epcpy.epc_schemes.lgtin import LGTIN
from epcpy.epc_schemes.sscc import SSCC
from epcpy.utils.common import ConvertException, calculate_checksum

DEFAULT_RESOLVER = "https://id.gs1.org"
DEFAULT_COMPANY_PREFIX_LENGTH = 7
_LOT_CHARS = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
"""GS1 AI encodable character set 82, at most 20 characters: what a lot number (AI 10) may hold."""
_GTIN = re.compile(r"\d{8}|\d{12,14}")
_PLAIN_LOT = re.compile(r"[A-Za-z0-9\-._]{1,20}")


class IdentifierError(ValueError):
    """A URN or Digital Link that claims to be a GS1 lot identifier but is not a valid one."""


@dataclass(frozen=True, slots=True)
class GS1Lot:
    """A GTIN-14 and a lot number: what the URN and the Digital Link of a lot both carry."""

    gtin: str
    lot: str

    def epc_class(self, company_prefix_length: int = DEFAULT_COMPANY_PREFIX_LENGTH) -> str:
        length = company_prefix_length
        if _PLAIN_LOT.fullmatch(self.lot) and 6 <= length <= 12:
            # nothing to escape: the URN is the GTIN's digits moved around (epcpy costs ~75 µs a lot)
            gtin = self.gtin
            return f"urn:epc:class:lgtin:{gtin[1 : 1 + length]}.{gtin[0]}{gtin[1 + length : 13]}.{self.lot}"
        try:
            return str(LGTIN.from_gs1_element_string(f"(01){self.gtin}(10){self.lot}", company_prefix_length).epc_uri)
        except ConvertException as exc:
            raise IdentifierError(f"no EPC class for GTIN {self.gtin} and lot {self.lot!r}") from exc

    def digital_link(self, resolver: str = DEFAULT_RESOLVER) -> str:
        return f"{resolver.rstrip('/')}/01/{self.gtin}/10/{quote(self.lot, safe='')}"


def check_gtin(digits: str) -> str:
    """The GTIN as 14 digits, its check digit verified."""
    if not _GTIN.fullmatch(digits):
        raise IdentifierError(f"a GTIN has 8, 12, 13 or 14 digits, got {digits!r}")
    gtin = digits.zfill(14)
    if calculate_checksum(gtin[:13]) != int(gtin[13]):
        raise IdentifierError(f"GTIN {gtin} has a wrong check digit")
    return gtin


def check_lot_number(lot: str) -> str:
    if not _LOT_CHARS.fullmatch(lot):
        raise IdentifierError(f"a GS1 lot number is 1 to 20 characters of set 82, got {lot[:40]!r}")
    return lot


def gtin_of(company_prefix: str, item_reference: str, indicator: str = "0") -> str:
    """The GTIN-14 of an item: indicator, company prefix, item reference (12 digits together) and check digit."""
    body = f"{indicator}{company_prefix}{item_reference}"
    if len(body) != 13 or not body.isdigit():
        raise IdentifierError("indicator, company prefix and item reference must make 13 digits")
    return f"{body}{calculate_checksum(body)}"


def parse_epc_class(urn: str) -> GS1Lot:
    try:
        lgtin = LGTIN(urn)
    except ConvertException as exc:
        raise IdentifierError(f"not a valid LGTIN EPC class: {urn[:200]!r}") from exc
    return GS1Lot(str(lgtin.gtin()), str(lgtin._lot))


def parse_digital_link(uri: str) -> GS1Lot:
    """``https://host/[prefix/]01/<GTIN>/10/<lot>[?…]``: any host, path prefix allowed, qualifiers after the lot
    other than the lot refused (a serial names an item, not a lot)."""
    parts = urlsplit(uri)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    for i in range(len(segments) - 3):
        if segments[i] == "01" and segments[i + 2] == "10" and i + 4 == len(segments):
            return GS1Lot(check_gtin(segments[i + 1]), check_lot_number(segments[i + 3]))
    raise IdentifierError(f"not a GS1 Digital Link of a GTIN and a lot: {uri[:200]!r}")


@functools.lru_cache(maxsize=100_000)
def gs1_lot(name: str) -> GS1Lot | None:
    """The GTIN and lot a name spells, or None for a plain id. A malformed GS1 spelling raises IdentifierError.

    Cached: a trace names the same lots again and again, and parsing a URN costs about 0.2 ms."""
    if name.startswith("urn:epc:class:lgtin:"):
        return parse_epc_class(name)
    if name.startswith(("https://", "http://")) and "/01/" in name and "/10/" in name:
        return parse_digital_link(name)
    return None


def lot_id_of(name: str) -> str:
    """The lot id a name spells: the lot number of a GS1 spelling, the name itself otherwise."""
    name = name.strip()
    if name.startswith(LOCAL_LOT):
        return unquote(name[len(LOCAL_LOT) :])
    found = gs1_lot(name)
    return found.lot if found is not None else name


def lot_name(name: str) -> str:
    """``lot_id_of``, or the name as given (stripped) when it is a malformed GS1 spelling: a command then reports
    the lot unknown, as for any other id it cannot find."""
    try:
        return lot_id_of(name)
    except IdentifierError:
        return name.strip()


LOCAL_LOT = "urn:lotgraph:lot:"
"""How an EPC class spells a lot that has no GTIN and whose id is not a URI (EPCIS wants URIs)."""


@functools.lru_cache(maxsize=100_000)
def epc_class_of(lot_id: str, gtin: str | None, company_prefix_length: int = DEFAULT_COMPANY_PREFIX_LENGTH) -> str:
    """The EPC class of a lot: its LGTIN URN when its GTIN is known, the id itself when it is a URI already (a GDST
    lot, an EPC), ``urn:lotgraph:lot:<id>`` otherwise."""
    if ":" in lot_id:
        return lot_id
    if gtin is not None:
        try:
            return GS1Lot(gtin, check_lot_number(lot_id)).epc_class(company_prefix_length)
        except IdentifierError:
            pass
    return LOCAL_LOT + quote(lot_id, safe="")


@functools.lru_cache(maxsize=10_000)
def sscc_of(epc: str) -> str | None:
    """The 18-digit SSCC (AI 00, check digit included) of an SSCC EPC URN; None for anything else, a malformed
    SSCC URN included (a container is then named by its id alone)."""
    if not epc.startswith("urn:epc:id:sscc:"):
        return None
    try:
        return str(SSCC(epc).gs1_key())
    except ConvertException:
        return None
