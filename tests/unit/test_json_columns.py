"""JSON columns are read with orjson, and what only the standard library reads (the
NaN and Infinity it writes for float fields) still reads back."""

from __future__ import annotations

import json
import math

from tams_server.store.engine import _json_loads


def test_reads_what_orjson_reads() -> None:
    assert _json_loads('{"a": [1, "b", null]}') == {"a": [1, "b", None]}
    assert _json_loads(b'[{"url": "https://x/y", "label": "cdn"}]') == [
        {"url": "https://x/y", "label": "cdn"}
    ]


def test_reads_back_nan_and_infinity_the_standard_library_wrote() -> None:
    text = json.dumps({"rate": math.nan, "peak": math.inf})
    read = _json_loads(text)
    assert math.isnan(read["rate"])
    assert read["peak"] == math.inf
