-- H2O group-by q9: regression v1 v2 by id2 id4 (r squared)
SELECT id2, id4, corr(v1, v2) * corr(v1, v2) AS r2 FROM x GROUP BY id2, id4
