"""Helpers for the test suite, one module per thing they hold; test directories hold only
``test_*.py``, ``conftest.py`` and data. Imported as ``support.<module>`` (``pythonpath =
["tests"]``).

Engines: ``engines`` (the podman/dockerd sessions and their stores), ``daemons`` (starting and
stopping daemon processes), ``containers`` (running containers, scratch tags),
``baseimages`` (the Debian base images made by mmdebstrap), ``leftovers`` (clearing a store
at the end of a session), ``builds`` (``imagec build`` once per project and engine),
``image_probe`` (what an image holds, from inside).

imagec as a user runs it: ``cli`` (the CLI in a subprocess), ``projects`` (sample projects,
probe wheels and sdists), ``proxy`` (a recording proxy in front of an engine socket),
``venvs`` (virtual environments that install imagec), ``plugins`` (throwaway plugin
distributions), ``fake_buildah``, ``package_index`` (a package index on loopback),
``hostile`` and ``timeout`` (running imagec on hostile input, bounded), ``limited_run`` (the
CLI or a driver of it in a child process under a time limit, and the small projects it runs
on).

Oracles: ``context`` (build-context vectors and trees on disk), ``go_re_oracle``
(patternmatcher's Go regexps), ``buildkit_lex`` and ``containerfile_check`` (reading a
Containerfile back as BuildKit does), ``oci_reference`` (distribution/reference),
``pip_oracle`` (pip's requirements-file parser), ``adversarial`` (Hypothesis settings and
hostile text).
"""
