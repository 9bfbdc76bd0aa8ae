"""A linear-time matcher for the Go regexps of .dockerignore patterns.

Go's regexp package (RE2) never backtracks, so Docker matches any pattern against any path
in time linear in the path's length. Python's ``re`` backtracks: ``*a*a*a*a*a*a*a*b``
against a long run of ``a`` takes exponential time. This module matches the way RE2 does:

- the syntax tree of :mod:`imagec.context.goregex` is compiled to a Thompson NFA (a list
  of instructions: match one character of a set, split, zero-width assertion, match);
- the search simulates the NFA on sets of instructions, and each set seen becomes a state
  of a DFA built lazily and cached: a cached step is one dict lookup per character, a new
  one costs at most one pass over the program. So matching a path of n characters costs
  O(n x program size) in the worst case and O(n) dict lookups once the states are known.

The cache is bounded; when full it is emptied and rebuilt as the text goes on, like RE2's.

Search semantics are Go's ``MatchString``: true when some substring matches (the
patterns anchor themselves with ``^``/``$``, but an alternation or a ``\\Q`` can leave one
side unanchored). Invalid UTF-8 in a path, kept as lone surrogates by
``surrogateescape``, reads as U+FFFD, as Go reads each invalid byte.
"""

from __future__ import annotations

from bisect import bisect_right

from imagec.context.goregex import BEGIN, END, NOT_WORD_BOUNDARY, WORD_BOUNDARY, Node

# Instruction opcodes.
CHAR, SPLIT, EMPTY, MATCH = 0, 1, 2, 3

# imagec's own limit on a compiled pattern (Go allows ~3.3 million instructions, which
# would take gigabytes here). A 64 KiB ignore-file line of plain text stays well below it.
MAX_PROGRAM = 1 << 18

_WORD = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_INVALID_TO_FFFD = {cp: 0xFFFD for cp in range(0xDC80, 0xDD00)}

# Terminal states of a search. Both are empty dicts (false), every live state holds at
# least its info under the key None (true), so the hot loop needs a single truth test.
DEAD: dict = {}
HIT: dict = {}


class ProgramTooLarge(ValueError):
    """The pattern compiles to more instructions than :data:`MAX_PROGRAM`."""


def go_text(text: str) -> str:
    """``text`` as Go's regexp reads it: an invalid byte (lone surrogate) is U+FFFD."""
    if text.isascii():
        return text
    return text.translate(_INVALID_TO_FFFD)


def program_size(node: Node) -> int:
    """How many instructions :class:`Automaton` compiles ``node`` to (without building it)."""

    def size(node: Node) -> int:
        tag = node[0]
        if tag in ("char", "empty"):
            return 1
        if tag == "eps":
            return 0
        if tag == "group":
            return size(node[1])
        if tag == "cat":
            return sum(size(sub) for sub in node[1])
        if tag == "alt":
            return sum(size(sub) for sub in node[1]) + len(node[1]) - 1
        _, sub, low, high = node
        inner = size(sub)
        if high == -1:
            return 1 + inner + low * inner
        return (high - low) * (inner + 1) + low * inner

    return 1 + size(node)


class _Info:
    """What a DFA state stands for: NFA instructions waiting at this position."""

    __slots__ = ("accept", "chars", "forced", "initial", "pcs", "prev_word")

    def __init__(self, pcs: tuple[int, ...], initial: bool, prev_word: bool) -> None:
        self.pcs = pcs  # instructions reached by the last character (before closure)
        self.initial = initial  # position 0: "^" holds
        self.prev_word = prev_word  # the last character was a word character (\b, \B)
        self.accept: bool | None = None  # a match ends here at the end of the text
        self.chars: dict | None = None  # closures before a character, see _closure_of
        self.forced: str | None = None


class Automaton:
    """A compiled Go regexp: ``match(text)`` is Go's ``regexp.MatchString``."""

    __slots__ = (
        "_budget",
        "_spent",
        "_states",
        "arg",
        "cache",
        "has_word",
        "initial",
        "op",
        "out",
        "restartable",
        "start",
        "work",
    )

    def __init__(self, node: Node, *, cache: bool = True) -> None:
        self.work = 0  # instructions visited building states: the cost model, for tests
        self.op: list[int] = []
        self.arg: list = []
        self.out: list[int] = []
        match_pc = self._emit(MATCH, None, -1)
        self.start = self._compile(node, match_pc)
        self.has_word = any(
            o == EMPTY and a in (WORD_BOUNDARY, NOT_WORD_BOUNDARY)
            for o, a in zip(self.op, self.arg, strict=True)
        )
        # Whether a match can start after position 0 (no "^" in the way): only then does
        # a state with no instructions left stay alive.
        chars, matched = self._closure((self.start,), False, None, None, None)
        self.restartable = bool(chars) or matched
        self.cache = cache
        self._states: dict = {}
        self._spent = 0
        self._budget = 64 * len(self.op) + 200_000  # instructions held by cached states
        self.initial = self._new_state((), True, False)

    # -- compiling -----------------------------------------------------------------

    def _emit(self, op: int, arg: object, out: int) -> int:
        if len(self.op) >= MAX_PROGRAM:
            raise ProgramTooLarge(f"compiles to more than {MAX_PROGRAM} instructions")
        self.op.append(op)
        self.arg.append(arg)
        self.out.append(out)
        return len(self.op) - 1

    def _compile(self, node: Node, nxt: int) -> int:
        """Emit ``node`` so that it continues at ``nxt``; return its entry (built backwards)."""
        tag = node[0]
        if tag == "char":
            return self._emit(CHAR, node[1], nxt)
        if tag == "empty":
            return self._emit(EMPTY, node[1], nxt)
        if tag == "eps":
            return nxt
        if tag == "group":
            return self._compile(node[1], nxt)
        if tag == "cat":
            for sub in reversed(node[1]):
                nxt = self._compile(sub, nxt)
            return nxt
        if tag == "alt":
            entries = [self._compile(sub, nxt) for sub in node[1]]
            entry = entries[-1]
            for other in reversed(entries[:-1]):
                entry = self._emit(SPLIT, other, entry)
            return entry
        assert tag == "rep", tag
        _, sub, low, high = node
        if high == -1:
            loop = self._emit(SPLIT, -1, nxt)  # x*: loop -> (x -> loop | nxt)
            self.arg[loop] = self._compile(sub, loop)
            tail = loop
        else:
            tail = nxt  # x{2,5} = xx(x(x(x)?)?)?
            for _ in range(high - low):
                tail = self._emit(SPLIT, self._compile(sub, tail), nxt)
        for _ in range(low):
            tail = self._compile(sub, tail)
        return tail

    # -- the NFA -------------------------------------------------------------------

    def _closure(
        self,
        pcs: tuple[int, ...],
        begin: bool,
        end: bool | None,
        prev_word: bool | None,
        next_word: bool | None,
    ) -> tuple[list[int], bool]:
        """Instructions reachable without reading: (character instructions, match reached).

        A context flag of None means "unknown": the assertion is taken as holding, which
        over-approximates (used only to decide whether a search can still succeed).
        """
        op, arg, out = self.op, self.arg, self.out
        seen: set[int] = set()
        stack = list(pcs)
        chars: list[int] = []
        matched = False
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            code = op[pc]
            if code == CHAR:
                chars.append(pc)
            elif code == SPLIT:
                stack.append(arg[pc])
                stack.append(out[pc])
            elif code == EMPTY:
                kind = arg[pc]
                if kind == BEGIN:
                    ok = begin
                elif kind == END:
                    ok = end is not False
                elif prev_word is None or next_word is None:
                    ok = True
                elif kind == WORD_BOUNDARY:
                    ok = prev_word != next_word
                else:
                    ok = prev_word == next_word
                if ok:
                    stack.append(out[pc])
            else:
                matched = True
        self.work += len(seen)
        chars.sort()  # deterministic state contents
        return chars, matched

    # -- the lazy DFA --------------------------------------------------------------

    def _new_state(self, pcs: tuple[int, ...], initial: bool, prev_word: bool) -> dict:
        if not pcs and not initial and not self.restartable:
            return DEAD
        key = (pcs, prev_word) if self.has_word else pcs
        if not initial and self.cache:
            found = self._states.get(key)
            if found is not None:
                return found
            if len(self._states) >= 10_000 or self._spent >= self._budget:
                self._flush()
            self._spent += len(pcs) + 1
        state: dict = {None: _Info(pcs, initial, prev_word)}
        if not initial and self.cache:
            self._states[key] = state
        return state

    def _flush(self) -> None:
        """Empty the cache; states still referenced keep their meaning, not their edges."""
        for state in self._states.values():
            info = state[None]
            state.clear()
            state[None] = info
        info = self.initial[None]
        self.initial.clear()
        self.initial[None] = info
        self._states = {}
        self._spent = 0

    def _closure_of(self, info: _Info, word: bool | None) -> tuple[list, bool]:
        """The state's closure before a character: ([(set, next instruction)], match ends).

        ``word`` says whether that character is a word character; it matters only to
        programs with ``\\b`` or ``\\B`` and is None for the others. Cached per state.
        """
        found = info.chars.get(word) if info.chars is not None else None
        if found is not None:
            return found
        chars, matched = self._closure(
            (*info.pcs, self.start), info.initial, False, info.prev_word, word
        )
        arg, out = self.arg, self.out
        found = ([(arg[pc], out[pc]) for pc in chars], matched)
        if info.chars is None:
            info.chars = {}
        info.chars[word] = found
        return found

    def step(self, state: dict, char: str) -> dict:
        """The state after ``char`` (a character of :func:`go_text` output)."""
        info: _Info = state[None]
        word = char in _WORD
        pairs, matched = self._closure_of(info, word if self.has_word else None)
        if matched:
            nxt = HIT
        else:
            code = ord(char)
            self.work += len(pairs)
            targets = sorted({out for bounds, out in pairs if bisect_right(bounds, code) & 1})
            nxt = self._new_state(tuple(targets), False, word and self.has_word)
        if self.cache:
            state[char] = nxt
        return nxt

    def advance(self, state: dict, text: str) -> dict:
        """The state after reading ``text`` from ``state``: a live state, DEAD or HIT."""
        if not state:
            return state  # DEAD and HIT are final
        step = self.step
        for char in text:
            nxt = state.get(char)
            if nxt is None:
                nxt = step(state, char)
            if not nxt:
                return nxt
            state = nxt
        return state

    def accepts(self, state: dict) -> bool:
        """Whether a search that reached ``state`` succeeds if the text ends there."""
        if state is HIT:
            return True
        if state is DEAD:
            return False
        info: _Info = state[None]
        if info.accept is None:
            _, matched = self._closure(
                (*info.pcs, self.start), info.initial, True, info.prev_word, False
            )
            info.accept = matched
        return info.accept

    def match(self, text: str) -> bool:
        """Go's ``regexp.MatchString(text)``."""
        return self.accepts(self.advance(self.initial, go_text(text)))

    def match_prefixes(self, text: str, cuts: tuple[int, ...]) -> bool:
        """Whether ``text[:k]`` matches for some k in ``cuts`` (ascending): one pass."""
        text = go_text(text)
        state = self.initial
        at = 0
        for cut in cuts:
            state = self.advance(state, text[at:cut])
            at = cut
            if state is HIT:
                # A match ended before the cut and inside the prefix (the character that
                # followed it was read): the prefix matches, and so does every longer one.
                return True
            if state is DEAD:
                return False
            if self.accepts(state):
                return True
        return False

    def forced_text(self, state: dict, limit: int = 64) -> str:
        """The text every match must read next from ``state`` (up to ``limit`` characters).

        Empty when the program can start a match anywhere, uses word boundaries, or the
        next character is not determined. Used to index patterns by what a path must
        look like, never to decide a match.
        """
        info: _Info = state[None]
        if info.forced is not None:
            return info.forced
        out: list[str] = []
        current = state
        if not self.restartable and not self.has_word:
            while len(out) < limit:
                pairs, matched = self._closure_of(current[None], None)
                if matched or not pairs or self.accepts(current):
                    break
                first = pairs[0][0]
                if len(first) != 2 or first[1] != first[0] + 1:
                    break
                if any(bounds != first for bounds, _ in pairs):
                    break
                char = chr(first[0])
                out.append(char)
                current = self.advance(current, char)
                if not current:
                    break
        info.forced = "".join(out)
        return info.forced
