-- H2O group-by q6: median v3 sd v3 by id4 id5
SELECT id4, id5, median(v3) AS median_v3, stddev(v3) AS sd_v3 FROM x GROUP BY id4, id5
