-- TPC-H Q17 (validation parameters; ORDER BY ties broken so answers compare row by row)
SELECT CAST(sum(l_extendedprice) AS DOUBLE) / 7.0 AS avg_yearly
FROM lineitem, part
WHERE p_partkey = l_partkey
  AND p_brand = 'Brand#23'
  AND p_container = 'MED BOX'
  AND l_quantity < (
      SELECT 0.2 * avg(CAST(l_quantity AS DOUBLE))
      FROM lineitem
      WHERE l_partkey = p_partkey
  )
