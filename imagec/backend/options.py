"""``BackendOptions``, the pydantic base of every backend's options (``--option key=value``).

Its own module so that listing backends, or inspecting an image with the default options,
never loads pydantic: a backend names its options class (``Backend.options_model``) and
``Backend.Options`` imports it on first use.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class BackendOptions(BaseModel):
    """Options a backend accepts (``--option key=value``); subclass to add fields."""

    # Built on first validation: most runs use the defaults and never validate.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
