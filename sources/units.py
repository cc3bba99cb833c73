"""Units of quantity: the spellings systems use (``kg``, UN/CEFACT ``KGM``), and the conversions known here.

Known conversions, each to one base unit per dimension:

- mass, to kg: KGM/kg, GRM/g, MGM/mg, TNE/t (metric tonne), LBR/lb (0.45359237 kg), ONZ/oz (0.028349523125 kg);
- volume, to L: LTR/L/l, MLT/mL/ml, MTQ/m3 (1,000 L);
- count, to EA: EA/H87/C62/pc.

There is no conversion between dimensions (a density would be needed): such quantities stay apart, in their own
base unit. An unknown unit is its own base.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    """UN/CEFACT Rec. 20 code, what EPCIS ``uom`` carries."""
    base: str
    """The unit quantities of this dimension are added up in."""
    factor: float
    """Base units per one of this unit."""


_UNITS = {
    "KGM": Unit("KGM", "kg", 1.0),
    "GRM": Unit("GRM", "kg", 0.001),
    "MGM": Unit("MGM", "kg", 0.000001),
    "TNE": Unit("TNE", "kg", 1000.0),
    "LBR": Unit("LBR", "kg", 0.45359237),
    "ONZ": Unit("ONZ", "kg", 0.028349523125),
    "LTR": Unit("LTR", "L", 1.0),
    "MLT": Unit("MLT", "L", 0.001),
    "MTQ": Unit("MTQ", "L", 1000.0),
    "H87": Unit("H87", "EA", 1.0),
    "C62": Unit("C62", "EA", 1.0),
    "EA": Unit("EA", "EA", 1.0),
}
_ALIASES = {
    "kg": "KGM",
    "g": "GRM",
    "mg": "MGM",
    "t": "TNE",
    "lb": "LBR",
    "oz": "ONZ",
    "l": "LTR",
    "ml": "MLT",
    "m3": "MTQ",
    "ea": "EA",
    "pc": "H87",
}
_PLAIN = {"KGM": "kg", "GRM": "g", "MGM": "mg", "TNE": "t", "LBR": "lb", "ONZ": "oz", "LTR": "L", "MLT": "mL"}


def unit(uom: str | None) -> Unit | None:
    if uom is None:
        return None
    code = _ALIASES.get(uom.lower(), uom.upper())
    return _UNITS.get(code)


def code_of(uom: str) -> str:
    """The UN/CEFACT code of a unit (``kg`` → ``KGM``); an unknown unit as given."""
    found = unit(uom)
    return found.code if found else uom


def plain(uom: str) -> str:
    """The everyday spelling of a unit code (``KGM`` → ``kg``); others as given."""
    return _PLAIN.get(uom, uom)


def to_base(quantity: float, uom: str | None) -> tuple[float, str]:
    """The quantity in its dimension's base unit; an unknown unit is its own base."""
    found = unit(uom)
    if found is None:
        return quantity, uom or ""
    return quantity * found.factor, found.base
