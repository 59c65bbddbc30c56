//! Aggregating kernels: the Cranelift renderer's fold against the interpreter's, on random
//! kernels over random columns (NULLs, NaN, extremes that overflow a sum), run twice into
//! one state so that the state carries across calls as it does across a partition's batches.

use super::compile;
use crate::abi::{FailureKind, RunError};
use crate::aggregate::AggregateState;
use crate::groups::GroupTable;
use crate::interp::{self, V};
use crate::ir::{AggFunc, Aggregate, Kernel, ScalarType};
use crate::testing::{
    columns_for, random_aggregating_kernel, random_grouping_kernel, state_image, table_image,
    Column, GroupImage, Rng,
};

type Image = Vec<(u64, Option<crate::testing::Element>)>;

fn fold_twice(
    kernel: &Kernel,
    columns: &[Column],
    mut run: impl FnMut(&[crate::abi::ColumnIn<'_>], &mut AggregateState) -> Result<(), RunError>,
) -> Result<Image, RunError> {
    let inputs: Vec<_> = columns.iter().map(Column::as_in).collect();
    let mut state = AggregateState::new(kernel);
    run(&inputs, &mut state)?;
    run(&inputs, &mut state)?;
    Ok(state_image(kernel, &state))
}

fn both(
    kernel: &Kernel,
    columns: &[Column],
    rows: usize,
) -> (Result<Image, RunError>, Result<Image, RunError>) {
    let compiled = compile(kernel).unwrap_or_else(|e| {
        panic!(
            "compile failed: {e}\n{}",
            crate::pretty::pretty(kernel, &[])
        )
    });
    let jit = fold_twice(kernel, columns, |i, s| compiled.run_aggregating(i, rows, s));
    let reference = fold_twice(kernel, columns, |i, s| {
        interp::run_aggregating(kernel, i, rows, s)
    });
    (jit, reference)
}

#[test]
fn random_aggregating_kernels_agree_with_the_interpreter() {
    let count: u64 = std::env::var("COREPY_SOAK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let (mut folded, mut failed) = (0, 0);
    for seed in 1..=count {
        let mut rng = Rng::new(seed);
        let kernel = random_aggregating_kernel(&mut rng, 3);
        let rows = rng.pick(&[0, 1, 63, 64, 65, 200]);
        let columns = columns_for(&kernel, &mut rng, rows);
        let (jit, reference) = both(&kernel, &columns, rows);
        match (&jit, &reference) {
            (Ok(a), Ok(b)) if same_states(&kernel, a, b) => folded += 1,
            // Both fail: renderers may meet the data's failures in another order.
            (Err(RunError::Failed(_)), Err(RunError::Failed(_))) => failed += 1,
            _ => panic!(
                "seed {seed}, {rows} rows:\n{}jit:    {jit:?}\ninterp: {reference:?}",
                crate::pretty::pretty(&kernel, &[])
            ),
        }
    }
    assert!(folded > count / 2, "{folded} folded, {failed} failed");
}

/// Equal states; but a float min or max may differ where a NaN is involved: the sign of
/// a NaN that arithmetic makes (`inf * 0`) depends on the instruction and operand order,
/// and total order puts a negative NaN first and a positive one last.
fn same_states(kernel: &Kernel, a: &Image, b: &Image) -> bool {
    use crate::testing::Element;
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .zip(&kernel.aggregates)
            .all(|((x, y), agg)| {
                let float = agg.arg.is_some_and(|arg| kernel.ty(arg).is_float());
                let extremum = matches!(agg.func, AggFunc::Min | AggFunc::Max);
                let nan = matches!(x.1, Some(Element::NaN)) || matches!(y.1, Some(Element::NaN));
                x.0 == y.0 && (x.1 == y.1 || (float && extremum && nan))
            })
}

fn one_aggregate(ty: ScalarType, func: AggFunc) -> Kernel {
    let mut k = Kernel::rows();
    let x = k.input(ty);
    k.aggregates.push(Aggregate { func, arg: Some(x) });
    k
}

fn column_of(ty: ScalarType, values: &[Option<V>]) -> Column {
    let mut column = crate::testing::random_column(&mut Rng::new(1), ty, values.len(), 0);
    let mut validity = vec![0u8; values.len().div_ceil(8)];
    for (row, v) in values.iter().enumerate() {
        if let Some(v) = v {
            crate::interp::write_value(&mut column.values, ty, row, *v);
            crate::abi::set_bit(&mut validity, row);
        }
    }
    column.validity = Some(validity);
    column
}

#[test]
fn an_integer_sum_that_overflows_fails_on_its_row_and_names_the_aggregate() {
    let k = one_aggregate(ScalarType::I64, AggFunc::Sum);
    let mut values = vec![Some(V::I(1)); 100];
    values[70] = Some(V::I(i64::MAX as i128));
    let columns = [column_of(ScalarType::I64, &values)];
    let compiled = compile(&k).unwrap();
    let inputs: Vec<_> = columns.iter().map(Column::as_in).collect();
    let mut state = AggregateState::new(&k);
    let err = compiled
        .run_aggregating(&inputs, 100, &mut state)
        .unwrap_err();
    let RunError::Failed(f) = err else {
        panic!("{err:?}")
    };
    assert_eq!(f.kind, FailureKind::Overflow);
    assert_eq!(f.row, 70);
    assert_eq!(f.node.index(), k.nodes.len(), "aggregate 0, past the nodes");
}

#[test]
fn an_empty_or_all_null_input_leaves_values_null_and_counts_zero() {
    for func in [AggFunc::Sum, AggFunc::Min, AggFunc::Max, AggFunc::Count] {
        let k = one_aggregate(ScalarType::F64, func);
        for values in [vec![], vec![None; 130]] {
            let columns = [column_of(ScalarType::F64, &values)];
            let (jit, reference) = both(&k, &columns, values.len());
            assert_eq!(jit, reference);
            assert_eq!(jit.unwrap(), vec![(0, None)]);
        }
    }
}

#[test]
fn moments_take_each_value_in_row_order_as_welfords_update_does() {
    // A NULL skipped, then 1, 2, 4, 1e300, -inf, 0.1: the JIT's state is the interpreter's, and
    // both are the update written out in Rust, bit for bit, over both calls.
    let k = one_aggregate(ScalarType::F64, AggFunc::Moments);
    let xs = [1.0, 2.0, 4.0, 1e300, f64::NEG_INFINITY, 0.1];
    let mut values: Vec<Option<V>> = xs.iter().map(|&x| Some(V::F64(x))).collect();
    values.insert(2, None);
    let columns = [column_of(ScalarType::F64, &values)];
    let (jit, reference) = both(&k, &columns, values.len());
    assert_eq!(jit, reference);
    let (mut mean, mut m2) = (0.0, 0.0);
    for (n, x) in xs.iter().chain(&xs).enumerate() {
        (mean, m2) = crate::aggregate::welford(n as u64 + 1, mean, m2, *x);
    }
    let expected = if mean.is_nan() || m2.is_nan() {
        crate::testing::Element::NaN
    } else {
        crate::testing::Element::Bits(mean.to_bits() as u128 | (m2.to_bits() as u128) << 64)
    };
    assert_eq!(jit.unwrap(), vec![(12, Some(expected))]);
    // Before -inf: finite and exact against the same steps over the first four values.
    let finite = [column_of(ScalarType::F64, &values[..4])];
    let (jit, _) = both(&k, &finite, 4);
    let (mut mean, mut m2) = (0.0, 0.0);
    for (n, x) in [1.0, 2.0, 4.0, 1.0, 2.0, 4.0].iter().enumerate() {
        (mean, m2) = crate::aggregate::welford(n as u64 + 1, mean, m2, *x);
    }
    let bits = mean.to_bits() as u128 | (m2.to_bits() as u128) << 64;
    assert_eq!(
        jit.unwrap(),
        vec![(6, Some(crate::testing::Element::Bits(bits)))]
    );
    assert!((mean - 7.0 / 3.0).abs() < 1e-15 && (m2 - 84.0 / 9.0).abs() < 1e-12);
}

/// Folds the rows twice into one table (dense from `dense`'s least key over its range,
/// when given: see [`GroupTable::with_dense_keys`]).
fn group_twice(
    kernel: &Kernel,
    columns: &[Column],
    rows: usize,
    dense: Option<(u64, u64)>,
    mut run: impl FnMut(&[crate::abi::ColumnIn<'_>], &mut GroupTable) -> Result<(), RunError>,
) -> Result<Vec<GroupImage>, RunError> {
    let inputs: Vec<_> = columns.iter().map(Column::as_in).collect();
    let mut table = GroupTable::new(kernel);
    if let Some((least, range)) = dense {
        table = table.with_dense_keys(least, range);
    }
    for _ in 0..2 {
        table.reserve(rows);
        run(&inputs, &mut table)?;
    }
    Ok(table_image(kernel, &table))
}

#[test]
fn random_grouping_kernels_agree_with_the_interpreter() {
    let count: u64 = std::env::var("COREPY_SOAK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let (mut grouped, mut groups) = (0, 0);
    for seed in 1..=count {
        let mut rng = Rng::new(seed ^ 0x5EED);
        let kernel = random_grouping_kernel(&mut rng, 3);
        let rows = rng.pick(&[0, 1, 63, 64, 65, 200]);
        let columns = columns_for(&kernel, &mut rng, rows);
        let compiled = compile(&kernel).unwrap_or_else(|e| {
            panic!(
                "compile failed: {e}\n{}",
                crate::pretty::pretty(&kernel, &[])
            )
        });
        // Half the one-key kernels fold into a dense table, over a range that may or may
        // not hold the keys: the groups must be the interpreter's in a hashed table.
        let dense = (kernel.group_keys.len() == 1 && rng.below(2) == 0).then(|| {
            (
                rng.pick(&[-300, -5, 0, 3, 200, i64::MIN, i64::MAX]) as u64,
                rng.pick(&[1, 7, 100, 300, 5000]),
            )
        });
        let jit = group_twice(&kernel, &columns, rows, dense, |i, t| {
            compiled.run_grouping(i, rows, t)
        });
        let reference = group_twice(&kernel, &columns, rows, None, |i, t| {
            interp::run_grouping(&kernel, i, rows, t)
        });
        let same = match (&jit, &reference) {
            (Ok(a), Ok(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x.0 == y.0 && x.1 == y.1 && same_states(&kernel, &x.2, &y.2))
            }
            (Err(RunError::Failed(_)), Err(RunError::Failed(_))) => true,
            _ => false,
        };
        assert!(
            same,
            "seed {seed}, {rows} rows:\n{}jit:    {jit:?}\ninterp: {reference:?}",
            crate::pretty::pretty(&kernel, &[])
        );
        if let Ok(t) = &reference {
            grouped += 1;
            groups += t.len();
        }
    }
    assert!(grouped > count / 2, "{grouped} grouped");
    assert!(
        groups > count as usize,
        "{groups} groups: keys should repeat and differ"
    );
}

#[test]
fn a_null_key_is_its_own_group_and_groups_carry_across_calls_and_growth() {
    let mut k = Kernel::rows();
    let key = k.input(ScalarType::I64);
    k.group_keys.push(key);
    k.aggregates.push(Aggregate {
        func: AggFunc::Count,
        arg: None,
    });
    let values: Vec<Option<V>> = (0..500)
        .map(|i| (i % 10 != 0).then_some(V::I(i % 50)))
        .collect();
    let columns = [column_of(ScalarType::I64, &values)];
    let compiled = compile(&k).unwrap();
    let inputs: Vec<_> = columns.iter().map(Column::as_in).collect();
    let mut table = GroupTable::new(&k);
    for _ in 0..3 {
        table.reserve(500);
        compiled.run_grouping(&inputs, 500, &mut table).unwrap();
    }
    let image = table_image(&k, &table);
    // Keys 0, 10, 20, 30, 40 only ever come with NULL: 45 keys and the NULL group.
    assert_eq!(image.len(), 46);
    let null_group = image.iter().find(|g| g.0 == 0b11).expect("a NULL group");
    assert_eq!(null_group.2[0].0, 150);
    let seven = image.iter().find(|g| g.0 == 1 && g.1 == [7]).unwrap();
    assert_eq!(seven.2[0].0, 30);
}

#[test]
fn a_dense_table_lays_its_range_out_in_key_order_and_still_takes_keys_outside_it() {
    let mut k = Kernel::rows();
    let key = k.input(ScalarType::I64);
    let x = k.input(ScalarType::I64);
    k.group_keys.push(key);
    k.aggregates.push(Aggregate {
        func: AggFunc::Sum,
        arg: Some(x),
    });
    // Keys 100..164 (the range), then keys outside it at both ends and the extremes, and
    // NULLs: 3 rows each.
    let mut keys: Vec<Option<V>> = (0..64).map(|i| Some(V::I(100 + i))).collect();
    keys.extend([99, 164, -1, i64::MIN as i128, i64::MAX as i128].map(|k| Some(V::I(k))));
    keys.push(None);
    let keys: Vec<Option<V>> = keys.iter().cycle().take(3 * keys.len()).cloned().collect();
    let rows = keys.len();
    let ones: Vec<Option<V>> = (0..rows).map(|_| Some(V::I(1))).collect();
    let columns = [
        column_of(ScalarType::I64, &keys),
        column_of(ScalarType::I64, &ones),
    ];
    let compiled = compile(&k).unwrap();
    let dense = group_twice(&k, &columns, rows, Some((100u64, 64)), |i, t| {
        compiled.run_grouping(i, rows, t)
    })
    .unwrap();
    let hashed = group_twice(&k, &columns, rows, None, |i, t| {
        interp::run_grouping(&k, i, rows, t)
    })
    .unwrap();
    assert_eq!(dense.len(), 64 + 5 + 1);
    assert!(dense.iter().all(|g| g.2[0].0 == 6), "{dense:?}");
    assert_eq!(dense, hashed);
    // In the table itself the range's groups sit in its first 64 slots, in key order.
    let inputs: Vec<_> = columns.iter().map(Column::as_in).collect();
    let mut table = GroupTable::new(&k).with_dense_keys(100, 64);
    table.reserve(rows);
    compiled.run_grouping(&inputs, rows, &mut table).unwrap();
    let first: Vec<u64> = table.iter().take(64).map(|g| g.1[0]).collect();
    assert_eq!(first, (100..164).collect::<Vec<u64>>());
}
