"""Building images on a container engine, shared by the ``docker`` and ``podman`` backends.

A backend opens an :class:`EngineSession` on its SDK; :func:`run_build` does the rest the
same way for every engine: the reuse check, streaming imagec's own context, the progress
display, the labels, tagging, pushing and the shape of every error.

Importing this package imports no engine SDK.
Nor does it import the flow: backends are loaded by every command, builds are rare. Import
``imagec.enginebuild.flow`` (``run_build``) and ``.session`` (``EngineSession``) directly.
"""
