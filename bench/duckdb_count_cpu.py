"""CPU (process_time, all threads) of DuckDB's plain count region × sector on a Parquet file, median
of 10 in a fresh connection: the reference of bench/dp_request_cpu.py (issue 15, dp3).

    .venv/bin/python bench/duckdb_count_cpu.py FILE.parquet
"""

import statistics
import sys
import time

import duckdb

f = sys.argv[1]
con = duckdb.connect()
sql = f"SELECT region, naf_sector, COUNT(*) FROM read_parquet('{f}') GROUP BY region, naf_sector"
con.execute(sql).fetchall()
ts = []
for _ in range(10):
    t = time.process_time()
    con.execute(sql).fetchall()
    ts.append(time.process_time() - t)
print(f"{f}: DuckDB plain count CPU median {statistics.median(ts) * 1000:.1f} ms")
