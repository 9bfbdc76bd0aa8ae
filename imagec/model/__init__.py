"""Layer 4, the model: the strict pydantic ``Spec`` (``spec.py``, the source of the JSON
Schema), validation of a ``Document`` into it with one renderer for pydantic errors
(``validate.py``), the OCI reference grammar (``reference.py``) and schema generation
(``schema.py``).

Kept empty so that ``imagec.model.reference`` loads without pydantic."""
