//! "Did you mean …?" suggestions for misspelled names.

/// Levenshtein distance over characters, case-insensitive.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// The candidates closest to `name`, best first: at most three, and only those close enough
/// to be a plausible typo (or that contain `name` / are contained in it).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let lowered = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, String)> = candidates
        .into_iter()
        .filter_map(|candidate| {
            let distance = edit_distance(name, candidate);
            let other = candidate.to_lowercase();
            let related =
                !lowered.is_empty() && (other.contains(&lowered) || lowered.contains(&other));
            (distance <= limit || related).then(|| (distance, candidate.to_string()))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    // Only the best matches: "colum1" suggests column1, not column2 and column3 as well.
    let best = scored.first().map_or(0, |(distance, _)| *distance);
    scored
        .into_iter()
        .filter(|(distance, _)| *distance == best)
        .take(3)
        .map(|(_, name)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typo_is_suggested_first() {
        let names = ["l_quantity", "l_extendedprice", "l_discount"];
        assert_eq!(closest("l_quantty", names), vec!["l_quantity".to_string()]);
    }

    #[test]
    fn case_differences_count_as_equal() {
        assert_eq!(closest("A", ["a", "zzz"]), vec!["a".to_string()]);
    }

    #[test]
    fn unrelated_names_are_not_suggested() {
        assert!(closest("price", ["l_orderkey", "o_custkey"]).is_empty());
    }

    #[test]
    fn only_the_closest_names_are_suggested() {
        let names = ["column1", "column2", "column3"];
        assert_eq!(closest("colum1", names), vec!["column1".to_string()]);
        assert_eq!(closest("colum", names).len(), 3);
    }

    #[test]
    fn substring_matches_are_suggested() {
        assert_eq!(
            closest("quantity", ["l_quantity", "x"]),
            vec!["l_quantity".to_string()]
        );
    }
}
