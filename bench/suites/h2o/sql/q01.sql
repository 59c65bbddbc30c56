-- H2O group-by q1: sum v1 by id1
SELECT id1, sum(v1) AS v1 FROM x GROUP BY id1
