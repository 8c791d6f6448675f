"""The performance changes the benchmark led to behave exactly as the code they replace."""

from __future__ import annotations

import random

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from shegong.ingest.rows import _validate_ric


def _outcome(check, value: str):
    try:
        return "ok", check(value)
    except (ValidationError, KeyError) as exc:
        return type(exc).__name__, str(exc)


def _with_check_digit(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def test_cached_birth_place_validation_matches_stdnum():
    rng = random.Random(20241)
    prefixes = ["320585", "110101", "330106", "350203", "000000", "999999", "320500", "371402", "510107"]
    values = set()
    for _ in range(3000):
        body = (
            rng.choice(prefixes)
            + str(rng.choice([1850, 1940, 1965, 1980, 1999, 2005, 2030]))
            + f"{rng.randint(0, 13):02d}{rng.randint(0, 32):02d}"
            + f"{rng.randint(0, 999):03d}"
        )
        valid = _with_check_digit(body)
        values.add(valid)
        values.add(valid.lower())
        values.add(valid[:-1] + ("0" if valid[-1] != "0" else "1"))  # wrong check digit
        values.add(valid[:17])  # too short
        values.add(" " + valid[:9] + " " + valid[9:])  # separators stdnum strips
        values.add(valid[:3] + "A" + valid[4:])
    differing = [v for v in values if _outcome(ric.validate, v) != _outcome(_validate_ric, v)]
    assert not differing
    outcomes = {_outcome(ric.validate, v)[0] for v in values}
    assert {"ok", "InvalidChecksum", "InvalidLength", "InvalidFormat", "InvalidComponent"} <= outcomes
