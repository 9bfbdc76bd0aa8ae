"""Layer 7, planning: the IR (``ir.py``, ordered build steps as plain data) and the compiler
(``compiler.py``, Spec + resolved Inputs -> Plan)."""
