"""Process-wide fast paths for GX's pandas engine on large frames and large suite parameters.

Each one replaces a slow step of GX 1.24 or pandas 3.1 by a step that computes the same value (the
expectations are still evaluated by GX; nothing is skipped), measured on the `large` benchmark:

  * key sets: a referential-integrity expectation carries its dimension's keys as `value_set` (a million
    worker keys). GX deep-copies the configuration, rebuilds it with pydantic's `.dict()` ~80 times per
    expectation and validation (copying the list each time) and hashes it into the id of ~40 metric
    configurations (a Python walk over every key, then JSON and md5): 15-20 s per expectation. The runner
    passes key sets as `KeySet`, which is never copied (GX never mutates a value set) and stands in metric ids
    as one digest of its content;
  * `isin` on pandas' Arrow-backed `str` columns boxes every value of the set into a pyarrow scalar in Python
    (3 s per million keys): a set of plain strings goes to Arrow's `is_in` as one array;
  * regex on `str` columns: pandas 3.1 falls back to Python's `re` for `\\d` whenever a column holds any
    non-ASCII character (every file name, masked name and address), because Python's `\\d` also matches
    non-ASCII digits (１, ٣) and RE2's does not: 2 s per million rows and regex. The two agree unless such a
    digit is actually present, so the fallback now happens only then (checked on the column's distinct
    non-ASCII values); and the scans this decision needs are done once per column, not once per pattern.

`install()` is idempotent; `shegong.quality.context.quiet_gx` calls it before GX validates anything.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import weakref

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SEQUENCES = (list, tuple, set, frozenset)
_SCALARS = frozenset((str, int, float, bool, type(None)))


class KeySet(list):
    """The keys of a suite parameter (the runner's `*_keys` parameters), never mutated: GX's deep copies and
    pydantic's copies of it are the list itself, and in a metric id it stands as the md5 of its JSON, computed
    once. pydantic keeps the object as it is when GX builds the expectation, so it stays one object from the
    runner to pandas' `isin`."""

    def __deepcopy__(self, memo):
        return self

    @functools.cached_property
    def token(self) -> str:
        digest = hashlib.md5(json.dumps(self, default=str).encode(), usedforsecurity=False).hexdigest()
        return f"<{len(self)} keys, md5 {digest}>"


def _fast_flat_sequences() -> None:
    """pydantic's `_get_value` copies a list element by element: a key set is passed on as it is, and any other
    flat list/tuple/set of plain scalars (for which it would return a copy of the same elements) is copied in
    one C-level step. Anything else goes through pydantic unchanged."""
    from great_expectations.expectations.expectation import Expectation

    original = Expectation._get_value
    if getattr(original, "_shegong_fast", False):
        return
    generic = original.__func__

    def _get_value(
        cls, v, to_dict, by_alias, include, exclude, exclude_unset, exclude_defaults, exclude_none
    ):
        if include is None and exclude is None:
            if type(v) is KeySet:
                return v
            if type(v) in _SEQUENCES and _SCALARS.issuperset(map(type, v)):
                return type(v)(v)
        return generic(
            cls, v, to_dict, by_alias, include, exclude, exclude_unset, exclude_defaults, exclude_none
        )

    _get_value._shegong_fast = True
    Expectation._get_value = classmethod(_get_value)


def _key_set_ids() -> None:
    """A metric configuration's id is the md5 of its kwargs as JSON; a key set enters it as its token, so equal
    kwargs still give equal ids and different ones different ids."""
    from great_expectations.core.id_dict import IDDict

    original = IDDict.to_id
    if getattr(original, "_shegong_fast", False):
        return

    def to_id(self, id_keys=None, id_ignore_keys=None):
        if any(type(v) is KeySet for v in self.values()):
            stand_in = IDDict({k: v.token if type(v) is KeySet else v for k, v in self.items()})
            ignore = self._id_ignore_keys if id_ignore_keys is None else id_ignore_keys
            return original(stand_in, id_keys, ignore)
        return original(self, id_keys, id_ignore_keys)

    to_id._shegong_fast = True
    IDDict.to_id = to_id


def _vectorised_string_isin() -> None:
    """pandas' `ArrowStringArray.isin` keeps the values that are strings or missing, boxing each into a
    pyarrow scalar; when every value is a string that filter keeps them all, so they go to `is_in` as one
    array. Any other set takes pandas' own path."""
    from pandas._libs import lib
    from pandas.core.arrays.string_arrow import ArrowStringArray

    original = ArrowStringArray.isin
    if getattr(original, "_shegong_fast", False):
        return

    def isin(self, values):
        if (
            isinstance(values, np.ndarray)
            and values.dtype == object
            and len(values)
            and lib.is_string_array(values, skipna=False)
        ):
            result = pc.is_in(self._pa_array, value_set=pa.array(values, type=self._pa_array.type))
            return np.array(result, dtype=np.bool_)
        return original(self, values)

    isin._shegong_fast = True
    ArrowStringArray.isin = isin


# A character Python's `\d` matches and RE2's does not.
_NON_ASCII_DIGIT = re.compile(r"(?![0-9])\d")
# What the regex dispatch asks of a column, once per Arrow array: GX runs several patterns on one column, and
# pandas would scan it again for each. Entries go with their array.
_text_facts: dict[int, tuple[weakref.ref, dict[str, bool]]] = {}


def _text_fact(chunked: pa.ChunkedArray, name: str) -> bool:
    key = id(chunked)
    entry = _text_facts.get(key)
    if entry is None or entry[0]() is not chunked:

        def forget(ref, key=key):
            if _text_facts.get(key, (None,))[0] is ref:
                del _text_facts[key]

        entry = (weakref.ref(chunked, forget), {})
        _text_facts[key] = entry
    facts = entry[1]
    if name not in facts:
        if name == "non_ascii":
            facts[name] = not pc.all(pc.string_is_ascii(chunked), min_count=0).as_py()
        elif name == "newline":
            facts[name] = bool(pc.any(pc.match_substring(chunked, "\n"), min_count=0).as_py())
        else:  # non-ASCII decimal digits, judged by Python's own `\d` on the distinct non-ASCII values
            non_ascii = pc.filter(chunked, pc.invert(pc.string_is_ascii(chunked)))
            facts[name] = any(map(_NON_ASCII_DIGIT.search, pc.unique(non_ascii).to_pylist()))
    return facts[name]


def _exact_regex_fallback() -> None:
    """pandas (3.1.1, `ArrowStringArrayMixin._needs_python_regex`) sends a regex to Python's `re` when RE2
    might answer differently: `\\u`/`\\N` escapes, lookarounds and backreferences, `\\s`, a `$` on text with
    newlines, or `\\d`/`\\w`/`\\b` on text with any non-ASCII character. This is the same decision with the
    column scans done once per column, and one refinement: for `\\d` and `\\D` alone the answers differ only
    on non-ASCII decimal digits, so the fallback is taken only when the column holds such a digit."""
    from pandas.core.arrays import _arrow_string_mixins
    from pandas.core.arrays.string_arrow import ArrowStringArray

    original = ArrowStringArray._needs_python_regex
    if getattr(original, "_shegong_fast", False):
        return
    parser = ArrowStringArray._re_parser()
    unsupported = {parser.ASSERT, parser.ASSERT_NOT, parser.GROUPREF}
    whitespace = {(parser.CATEGORY, parser.CATEGORY_SPACE), (parser.CATEGORY, parser.CATEGORY_NOT_SPACE)}
    digits = {(parser.CATEGORY, parser.CATEGORY_DIGIT), (parser.CATEGORY, parser.CATEGORY_NOT_DIGIT)}
    unicode_sensitive = digits | {
        (parser.CATEGORY, parser.CATEGORY_WORD),
        (parser.CATEGORY, parser.CATEGORY_NOT_WORD),
        (parser.AT, parser.AT_BOUNDARY),
        (parser.AT, parser.AT_NON_BOUNDARY),
    }
    end = (parser.AT, parser.AT_END)

    def _needs_python_regex(self, pat) -> bool:
        text = pat.pattern if isinstance(pat, re.Pattern) else pat
        if _arrow_string_mixins._escaped_unicode_char.search(text) is not None:
            return True
        nodes = self._regex_nodes(text)
        if any(op in unsupported for op, _ in nodes):
            return True
        if any(node in whitespace for node in nodes if node[0] == parser.CATEGORY):
            return True
        sensitive = {node for node in nodes if node[0] in (parser.CATEGORY, parser.AT)} & unicode_sensitive
        if (
            sensitive
            and _text_fact(self._pa_array, "non_ascii")
            and (not sensitive <= digits or _text_fact(self._pa_array, "non_ascii_digit"))
        ):
            return True
        return any(node == end for node in nodes if node[0] == parser.AT) and _text_fact(
            self._pa_array, "newline"
        )

    _needs_python_regex._shegong_fast = True
    ArrowStringArray._needs_python_regex = _needs_python_regex


def install() -> None:
    _fast_flat_sequences()
    _key_set_ids()
    _vectorised_string_isin()
    _exact_regex_fallback()
