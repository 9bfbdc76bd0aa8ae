"""A port of BuildKit's shell word processing (``frontend/dockerfile/shell/lex.go``).

BuildKit's parser keeps ENV, LABEL and ARG values (and WORKDIR, USER, COPY paths) raw; the
builder later runs each through ``ProcessWord``, which removes quotes, handles ``\\`` escapes
and expands ``$VAR``/``${VAR...}``. These tests need that last step to check that what imagec
writes is read back as exactly the value the user gave, so this is a line-by-line port,
checked against lex.go's own test vectors (``test_buildkit_lex.py``).

Go details kept on purpose: ``text/scanner`` drops a byte-order mark at the start of a word;
``unicode.IsSpace``/``IsLetter``/``IsDigit`` differ from ``str.isspace``/``isalpha``/
``isdigit``; nested ``${...}`` processing shares (and resets) the words buffer; ``${x/a/b}``
replacements go through Go's ``Regexp.Expand`` (``$0`` is the match).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping

EOF = ""  # the scanner's end marker; never a real character


class LexError(ValueError):
    """BuildKit would fail the build with this error."""


def go_is_space(ch: str) -> bool:
    """Go's ``unicode.IsSpace``: the Unicode White_Space property."""
    return ch in "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" or (
        "\u2000" <= ch <= "\u200a"
    )


def go_is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L")


def go_is_digit(ch: str) -> bool:
    return unicodedata.category(ch) == "Nd"


def _is_special_param(ch: str) -> bool:
    return ch in "@*#?-$!0"


def _is_whitespace(ch: str) -> bool:
    return ch in "\t\r "


class _Scanner:
    """``text/scanner`` as lex.go uses it: Peek/Next over runes, a leading BOM skipped."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 1 if text.startswith("\ufeff") else 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else EOF

    def next(self) -> str:
        ch = self.peek()
        if ch != EOF:
            self.pos += 1
        return ch


class _Words:
    """``wordsStruct``; ``buf`` is the shell word's shared buffer (a one-item list)."""

    def __init__(self, buf: list[str]) -> None:
        self.buf = buf
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if go_is_space(ch) and self.in_word:
            if self.buf[0]:
                self.words.append(self.buf[0])
                self.buf[0] = ""
                self.in_word = False
        elif not go_is_space(ch):
            self.add_raw_char(ch)

    def add_raw_char(self, ch: str) -> None:
        self.buf[0] += ch
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw_string(self, text: str) -> None:
        self.buf[0] += text
        self.in_word = True

    def get_words(self) -> list[str]:
        if self.buf[0]:
            self.words.append(self.buf[0])
            self.buf[0] = ""
            self.in_word = False
        return self.words


class Lex:
    """``shell.Lex``: ``Lex().process_word(word, env)`` is what the builder does to a value."""

    def __init__(
        self,
        escape_token: str = "\\",
        *,
        raw_quotes: bool = False,
        raw_escapes: bool = False,
        skip_process_quotes: bool = False,
        skip_unset_env: bool = False,
    ) -> None:
        self.escape_token = escape_token
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_process_quotes = skip_process_quotes
        self.skip_unset_env = skip_unset_env

    def process_word(self, word: str, env: Mapping[str, str] | None = None) -> str:
        return _ShellWord(self, word, env or {}).process()[0]

    def process_words(self, word: str, env: Mapping[str, str] | None = None) -> list[str]:
        return _ShellWord(self, word, env or {}).process()[1]

    def process_word_with_matches(
        self, word: str, env: Mapping[str, str] | None = None
    ) -> tuple[str, set[str], set[str]]:
        """The result, the names that were set and the names that were not."""
        sw = _ShellWord(self, word, env or {})
        result = sw.process()[0]
        return result, sw.matches, sw.nonmatches


class _ShellWord:
    def __init__(self, lex: Lex, word: str, env: Mapping[str, str]) -> None:
        self.lex = lex
        self.envs = env
        self.raw_escapes = lex.raw_escapes
        self.scanner = _Scanner(word)
        self.words_buffer = [""]
        self.matches: set[str] = set()
        self.nonmatches: set[str] = set()

    def process(self) -> tuple[str, list[str]]:
        return self.process_stop_on(EOF, self.raw_escapes)

    def process_stop_on(self, stop_char: str, raw_escapes: bool) -> tuple[str, list[str]]:
        result: list[str] = []
        self.words_buffer[0] = ""  # shared with any enclosing call, as in lex.go
        words = _Words(self.words_buffer)
        special: dict[str, Callable[[], str]] = {
            "$": self.process_dollar,
            "<": self.process_possible_heredoc,
        }
        if not self.lex.skip_process_quotes:
            special["'"] = self.process_single_quote
            special['"'] = self.process_double_quote

        saved = self.raw_escapes
        self.raw_escapes = raw_escapes
        try:
            while self.scanner.peek() != EOF:
                ch = self.scanner.peek()
                if stop_char != EOF and ch == stop_char:
                    self.scanner.next()
                    return "".join(result), words.get_words()
                fn = special.get(ch)
                if fn is not None:
                    tmp = fn()
                    result.append(tmp)
                    if ch == "$":
                        words.add_string(tmp)
                    else:
                        words.add_raw_string(tmp)
                    continue
                ch = self.scanner.next()
                if ch == self.lex.escape_token:
                    if self.raw_escapes:
                        words.add_raw_char(ch)
                        result.append(ch)
                    ch = self.scanner.next()
                    if ch == EOF:
                        break
                    words.add_raw_char(ch)
                else:
                    words.add_char(ch)
                result.append(ch)
            if stop_char != EOF:
                raise LexError(
                    f"unexpected end of statement while looking for matching {stop_char}"
                )
            return "".join(result), words.get_words()
        finally:
            self.raw_escapes = saved

    def process_single_quote(self) -> str:
        result: list[str] = []
        ch = self.scanner.next()
        if self.lex.raw_quotes:
            result.append(ch)
        while True:
            ch = self.scanner.next()
            if ch == EOF:
                raise LexError(
                    "unexpected end of statement while looking for matching single-quote"
                )
            if ch == "'":
                if self.lex.raw_quotes:
                    result.append(ch)
                return "".join(result)
            result.append(ch)

    def process_double_quote(self) -> str:
        result: list[str] = []
        ch = self.scanner.next()
        if self.lex.raw_quotes:
            result.append(ch)
        while True:
            peek = self.scanner.peek()
            if peek == EOF:
                raise LexError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if peek == '"':
                ch = self.scanner.next()
                if self.lex.raw_quotes:
                    result.append(ch)
                return "".join(result)
            if peek == "$":
                result.append(self.process_dollar())
                continue
            ch = self.scanner.next()
            if ch == self.lex.escape_token:
                if self.raw_escapes:
                    result.append(ch)
                after = self.scanner.peek()
                if after == EOF:
                    continue  # "ignore \ at end of word": the next peek fails the quote
                if after in ('"', "$", self.lex.escape_token):
                    ch = self.scanner.next()
            result.append(ch)

    def process_dollar(self) -> str:
        self.scanner.next()
        if self.scanner.peek() != "{":
            name = self.process_name()
            if not name:
                return "$"
            value, found = self.get_env(name)
            if not found and self.lex.skip_unset_env:
                return "$" + name
            return value

        self.scanner.next()
        peek = self.scanner.peek()
        if peek == EOF:
            raise LexError("syntax error: missing '}'")
        if peek in "{}:":
            raise LexError("syntax error: bad substitution")
        name = self.process_name()
        ch = self.scanner.next()
        chs = ch if ch != EOF else "\ufffd"  # Go: string(rune(-1))
        null_is_unset = False

        if ch == "}":
            value, found = self.get_env(name)
            if not found and self.lex.skip_unset_env:
                return "${" + name + "}"
            return value
        if ch in (":", "+", "-", "?", "#", "%"):
            if ch == ":":
                null_is_unset = True
                ch = self.scanner.next()
                chs += ch if ch != EOF else "\ufffd"
            raw_escapes = ch in ("#", "%")
            if null_is_unset and raw_escapes:
                raise LexError(f"unsupported modifier ({chs}) in substitution")
            try:
                word, _ = self.process_stop_on("}", raw_escapes)
            except LexError:
                if self.scanner.peek() == EOF:
                    raise LexError("syntax error: missing '}'") from None
                raise
            value, found = self.get_env(name)
            if self.lex.skip_unset_env and not found:
                return "${" + name + chs + word + "}"
            if ch == "-":
                return word if not found or (null_is_unset and value == "") else value
            if ch == "+":
                return "" if not found or (null_is_unset and value == "") else word
            if ch == "?":
                if not found:
                    raise LexError(f"{name}: {word or 'is not allowed to be unset'}")
                if null_is_unset and value == "":
                    raise LexError(f"{name}: {word or 'is not allowed to be empty'}")
                return value
            if ch in ("%", "#"):
                greedy = False
                if word and word[0] == ch:
                    greedy = True
                    word = word[1:]
                if ch == "%":
                    return _trim_suffix(word, value, greedy)
                return _trim_prefix(word, value, greedy)
            raise LexError(f"unsupported modifier ({chs}) in substitution")
        if ch == "/":
            replace_all = self.scanner.peek() == "/"
            if replace_all:
                self.scanner.next()
            try:
                pattern, _ = self.process_stop_on("/", True)
            except LexError:
                if self.scanner.peek() == EOF:
                    raise LexError("syntax error: missing '/' in ${}") from None
                raise
            try:
                replacement, _ = self.process_stop_on("}", True)
            except LexError:
                if self.scanner.peek() == EOF:
                    raise LexError("syntax error: missing '}'") from None
                raise
            value, found = self.get_env(name)
            if self.lex.skip_unset_env and not found:
                return "${" + name + "/" + pattern + "/" + replacement + "}"
            regex = convert_shell_pattern_to_regex(pattern, greedy=True, anchored=False)
            if replace_all:
                return regex.sub(lambda m: _go_expand(replacement, m), value)
            m = regex.search(value)
            if m is not None:
                value = value[: m.start()] + replacement + value[m.end() :]
            return value
        raise LexError(f"unsupported modifier ({chs}) in substitution")

    def process_name(self) -> str:
        name: list[str] = []
        while self.scanner.peek() != EOF:
            ch = self.scanner.peek()
            if not name and go_is_digit(ch):
                while self.scanner.peek() != EOF and go_is_digit(self.scanner.peek()):
                    name.append(self.scanner.next())
                return "".join(name)
            if not name and _is_special_param(ch):
                return self.scanner.next()
            if not go_is_letter(ch) and not go_is_digit(ch) and ch != "_":
                break
            name.append(self.scanner.next())
        return "".join(name)

    def process_possible_heredoc(self) -> str:
        self.scanner.next()
        if self.scanner.peek() != "<":
            return "<"
        self.scanner.next()
        space: list[str] = []
        while self.scanner.peek() != EOF and _is_whitespace(self.scanner.peek()):
            space.append(self.scanner.next())
        return "<<" + "".join(space)

    def get_env(self, name: str) -> tuple[str, bool]:
        if name in self.envs:
            self.matches.add(name)
            return self.envs[name], True
        self.nonmatches.add(name)
        return "", False


_REGEX_SPECIAL = "[]{}.+()|^$"


def convert_shell_pattern_to_regex(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern:
    """``convertShellPatternToRegex``: ``?`` one character, ``*`` any string; no brackets."""
    s = _Scanner(pattern)
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    while (tok := s.next()) != EOF:
        if tok == "*":
            out.append(star)
            continue
        if tok == "?":
            out.append(".")
            continue
        if tok == "\\":
            # `}` and `/` are escaped only to survive ${...} parsing; the escape is dropped.
            if s.peek() in ("}", "/"):
                continue
            out.append("\\")
            tok = s.next()
            if tok not in ("*", "?", "\\"):
                raise LexError(f"invalid escape '\\{tok}'")
        elif tok in _REGEX_SPECIAL:
            out.append("\\")
        out.append(tok)
    return re.compile("".join(out))


def _trim_prefix(word: str, value: str, greedy: bool) -> str:
    regex = convert_shell_pattern_to_regex(word, greedy=greedy, anchored=True)
    m = regex.search(value)
    return value[m.end() :] if m is not None else value


def reverse_pattern(pattern: str) -> str:
    """``reversePattern``: reverse, keeping each ``\\x`` escape in front of its character."""
    runes = list(pattern)
    out = [""] * len(runes)
    last = len(runes) - 1
    i = 0
    while i <= last:
        tok = runes[i]
        out_idx = last - i
        if tok == "\\" and i != last:
            out[out_idx - 1] = tok
            out[out_idx] = runes[i + 1]
            i += 2
        else:
            out[out_idx] = tok
            i += 1
    return "".join(out)


def _trim_suffix(pattern: str, word: str, greedy: bool) -> str:
    # Regular expressions find the leftmost match; reversing both finds the rightmost one.
    return _trim_prefix(reverse_pattern(pattern), word[::-1], greedy)[::-1]


def _go_expand(template: str, m: re.Match) -> str:
    """Go's ``Regexp.Expand`` for the replacement of ``${x//a/b}``: ``$n``, ``${n}``, ``$$``."""
    out: list[str] = []
    rest = template
    while True:
        before, sep, after = rest.partition("$")
        out.append(before)
        if not sep:
            return "".join(out)
        rest = after
        if rest.startswith("$"):
            out.append("$")
            rest = rest[1:]
            continue
        extracted = _go_extract(rest)
        if extracted is None:
            out.append("$")  # malformed: `$` is literal
            continue
        num, rest = extracted
        if num is not None and num <= (m.re.groups) and m.group(num) is not None:
            out.append(m.group(num))


def _go_extract(text: str) -> tuple[int | None, str] | None:
    brace = text.startswith("{")
    body = text[1:] if brace else text
    i = 0
    while i < len(body) and (go_is_letter(body[i]) or go_is_digit(body[i]) or body[i] == "_"):
        i += 1
    if i == 0:
        return None
    name = body[:i]
    if brace:
        if i >= len(body) or body[i] != "}":
            return None
        i += 1
    num: int | None = None
    if name.isascii() and name.isdigit() and not (name[0] == "0" and len(name) > 1):
        num = int(name) if len(name) <= 9 else None  # Go gives up past 1e8
    return num, body[i:]
