#!/usr/bin/env python3
"""Loads decode output into DuckDB the way README.md ("CSV, windows and
databases") says, and prints what came out as one JSON object:

    {"csv": {"types": {"t": "BIGINT", ...}, "rows": N, "totals": {"label": ["tx", "rx"]}},
     "json": {...}, "summary": {"label": ["tx", "rx"]}}

Totals are decimal strings (DuckDB sums UBIGINT as HUGEINT, past 2^64).
Run by Tests/CommandLineTests/OutputFormatTests.swift.

Usage: python3 load.py FILE.csv FILE.jsonl [SUMMARY.json]

SUMMARY.json is `sockstat-convert summary --json` of the same input; its
label totals are passed through as decimal strings (Python reads JSON
integers past 2^64 exactly).
"""
import json
import sys

import duckdb

CSV = """read_csv(?, header = true, allow_quoted_nulls = false,
    columns = {'t': 'BIGINT', 'd': 'BIGINT', 'c': 'UTINYINT', 'label': 'VARCHAR', 'tx': 'UBIGINT', 'rx': 'UBIGINT'})"""
JSON = """read_json(?, format = 'newline_delimited',
    columns = {'t': 'BIGINT', 'd': 'BIGINT', 'c': 'UTINYINT', 's': 'MAP(VARCHAR, UBIGINT[2])'})"""


def describe(con, source, path):
    return {name: kind for name, kind, *_ in con.execute('DESCRIBE SELECT * FROM ' + source, [path]).fetchall()}


def main(csv_path, json_path, summary_path=None):
    con = duckdb.connect()
    out = {}
    rows = con.execute('SELECT label, sum(tx), sum(rx), count(*) FROM ' + CSV + ' GROUP BY label', [csv_path]).fetchall()
    out['csv'] = {'types': describe(con, CSV, csv_path),
                  'rows': sum(r[3] for r in rows),
                  'totals': {r[0]: [str(r[1]), str(r[2])] for r in rows}}
    rows = con.execute('SELECT label, sum(counts[1]), sum(counts[2]), count(*) FROM ('
                       'SELECT unnest(map_keys(s)) AS label, unnest(map_values(s)) AS counts FROM ' + JSON +
                       ') GROUP BY label', [json_path]).fetchall()
    out['json'] = {'types': describe(con, JSON, json_path),
                   'rows': sum(r[3] for r in rows),
                   'totals': {r[0]: [str(r[1]), str(r[2])] for r in rows}}
    if summary_path:
        with open(summary_path) as f:
            labels = json.load(f)['labels']
        out['summary'] = {label: [str(v['tx']), str(v['rx'])] for label, v in labels.items()}
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main(*sys.argv[1:4])
