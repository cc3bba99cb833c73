"""The audit of a trace: mass balance (pure, ``mass_balance.py``), the records it is computed from
(``trace_records.py``), and the exports — EPCIS 2.0 (``epcis_export.py``), FSMA 204 (``fsma.py``, ``xlsx.py``) —
written in chunks from them (``exports.py``, ``export_meta.py``)."""
