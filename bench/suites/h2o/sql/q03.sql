-- H2O group-by q3: sum v1 mean v3 by id3
SELECT id3, sum(v1) AS v1, avg(v3) AS v3 FROM x GROUP BY id3
