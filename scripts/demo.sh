#!/usr/bin/env bash
# The main job: build and install corepy, generate TPC-H scale 0.1, run a SQL aggregate over
# its Parquet files, print its EXPLAIN, and run the same query with the lazy API.
source "$(dirname "$0")/setup.sh"

data=data/tpch-sf0.1
if [ ! -f "$data/lineitem.parquet" ]; then
    corepy gen tpch --scale 0.1 --output "$data"
fi

query="SELECT l_returnflag, l_linestatus,
       sum(l_quantity) AS sum_qty,
       sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
       avg(l_discount) AS avg_disc,
       count(*) AS count_order
FROM '$data/lineitem.parquet'
WHERE l_shipdate <= DATE '1998-09-02'
GROUP BY l_returnflag, l_linestatus
ORDER BY l_returnflag, l_linestatus"

echo; echo "== SQL: TPC-H Q1 (abridged) over $data/lineitem.parquet"
corepy sql "$query"
echo; echo "== EXPLAIN"
corepy sql "EXPLAIN $query"
echo; echo "== The same query with the lazy API (examples/tpch_q1.py)"
python examples/tpch_q1.py "$data"
