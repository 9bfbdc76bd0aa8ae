"""Layer 6, resolution: the surroundings of a validated spec (source root and repository,
ignore file, stack, integrations, requirements files, the runtime wheel) turned into the
compiler's ``Inputs``."""
