"""Layer 0: helpers every stage may use (bounded file reads and atomic writes, 'did you mean'
hints, quoting values in messages, credential and ``${VAR}`` patterns). Standard library only."""
