"""Tryton 8.2 as a real upstream for the demo, the tests and the benchmarks: install check, database, data set,
server process. The gateway never imports this package; it reaches Tryton through ``sources/tryton``."""
