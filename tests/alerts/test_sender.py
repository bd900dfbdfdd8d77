"""The send pass in process, on a real catalog: a backlog larger than one content chunk goes out
whole and once, in delivery order."""

from __future__ import annotations

import io
import json

from catalog import Catalog
from harvester.alerts.match import match_new_events
from harvester.alerts.sender import CHUNK, send_due
from harvester.alerts.settings import parse
from tests.alerts.test_match import NOW, product, store, subscribe


def test_a_backlog_beyond_one_chunk_is_sent_whole_in_order(db_path, monkeypatch):
    monkeypatch.setenv("HARVESTER_NOW", NOW)
    catalog = Catalog.open(db_path)
    try:
        subscribe(catalog, "pipe", "kind = 'new'")
        n = CHUNK * 2 + 17
        store(catalog, [product(i) for i in range(n)])
        assert match_new_events(catalog.conn, now=NOW).deliveries == n
        out = io.StringIO()
        report = send_due(catalog.conn, parse({}, path="-"), out=out)
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        assert report.sent == n == len(lines)
        assert [line["event"]["id"] for line in lines] == sorted(line["event"]["id"] for line in lines)
        assert len({line["delivery_id"] for line in lines}) == n
        again = io.StringIO()
        assert send_due(catalog.conn, parse({}, path="-"), out=again).sent == 0
        assert again.getvalue() == ""
    finally:
        catalog.close()
