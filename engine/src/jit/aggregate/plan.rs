//! Which partial aggregations fold into a fused stage's kernel, and how: the kernel's
//! aggregates, and for each column of DataFusion's partial-aggregate state the slot of the
//! kernel's [`AggregateState`] it comes from.
//!
//! Folded: `count`, `sum`, `min`, `max`, `avg`, and the variances and standard deviations
//! of floats (`var`, `var_pop`, `stddev`, `stddev_pop`) without DISTINCT, FILTER or ORDER BY,
//! over columns of the stage (a computed argument is a stage column after
//! `PushAggregateArguments`), grouped by up to four stage columns of integer, boolean,
//! date, timestamp, duration or string types (strings as dictionary ids), or by none. The
//! `sum` or `avg` of a decimal column cast to a double folds its unscaled integers.
//! Anything else is left to DataFusion. How many groups a key makes is known only at run
//! time: a partition that meets many goes back to DataFusion's aggregation (`fallback.rs`).

use std::sync::Arc;

use corepy_codegen::ir::{
    aggregate_ordered, aggregate_summable, groupable, AggFunc, Aggregate, Kernel, Op, ScalarType,
    ValueId,
};
use corepy_planner::fusion::{scalar_type, StageInput, StageOutput};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::{ExecutionPlan, InputOrderMode};

use super::dense::DenseKeys;
use super::dictionary::is_dictionary_key;
use crate::jit::JitExec;

/// Where one column of the partial state comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The rows aggregate `i` counted.
    Rows(usize),
    /// The rows aggregate `i` counted, NULL where none (DataFusion's grouped `avg` marks
    /// a group that saw no value so in its count).
    SeenRows(usize),
    /// The value of aggregate `i` (NULL while it counted no row).
    Value(usize),
    /// The running mean of moments aggregate `i` (0 while it counted no row).
    Mean(usize),
    /// The sum of squared deviations of moments aggregate `i` (0 while it counted none).
    SquaredDeviations(usize),
    /// The double sum of aggregate `i` over 10^scale (NULL while it counted no row): the
    /// `sum` or `avg` of a decimal cast to a double, folded as the sum of its unscaled
    /// integers ([`Builder::unscaled_sum`]).
    DividedSum(usize, i8),
}

/// One column of DataFusion's partial-aggregate state.
#[derive(Debug, Clone)]
pub struct StateColumn {
    pub field: FieldRef,
    pub source: Source,
}

/// A partial aggregation folded into a stage's kernel.
#[derive(Debug)]
pub struct FoldPlan {
    /// The stage's kernel with aggregates instead of outputs.
    pub kernel: Kernel,
    /// For each kernel input, what it reads from the stage's input.
    pub inputs: Vec<StageInput>,
    /// For each kernel input, the column's name (for EXPLAIN).
    pub input_names: Vec<String>,
    /// The SQL text of nodes that can fail, for error messages.
    pub labels: Vec<(ValueId, String)>,
    /// The grouping keys' columns (the kernel's group keys, in order).
    pub keys: Vec<FieldRef>,
    /// The kernel inputs that read string columns as dictionary ids
    /// ([`super::dictionary`]), one dictionary each, in this order.
    pub encoded: Vec<usize>,
    /// For each grouping key, the dictionary its ids come from (a string key).
    pub key_dictionaries: Vec<Option<usize>>,
    pub columns: Vec<StateColumn>,
    /// Each aggregate as DataFusion shows it, for EXPLAIN.
    pub shown: Vec<String>,
    /// The key range the group table is laid out by, if any ([`super::dense`]).
    pub dense: Option<DenseKeys>,
}

impl FoldPlan {
    /// The plan with its table laid out by key only where `dense` allows
    /// (`SET corepy.dense_groups = false` turns it off).
    pub fn laid_out_by_key(self, dense: bool) -> Self {
        FoldPlan {
            dense: self.dense.filter(|_| dense),
            ..self
        }
    }

    /// The label of a failing node.
    pub fn label(&self, node: ValueId) -> Option<&str> {
        self.labels
            .iter()
            .find(|(id, _)| *id == node)
            .map(|(_, s)| s.as_str())
    }
}

/// The fold of `aggregate` (a partial or single aggregation) into `stage`, or why not.
pub fn plan_fold(stage: &JitExec, aggregate: &AggregateExec) -> Result<FoldPlan, String> {
    let group = aggregate.group_expr();
    if !group.is_single() {
        return Err("grouping sets are not folded".into());
    }
    if aggregate.filter_expr().iter().any(Option::is_some) {
        return Err("FILTER clauses are not folded".into());
    }
    if aggregate.limit_options().is_some() {
        return Err("an aggregation with a limit is not folded".into());
    }
    if *aggregate.input_order_mode() != InputOrderMode::Linear {
        // The final aggregation would expect groups in their input's order.
        return Err("an aggregation over ordered input is not folded".into());
    }
    let lowered = stage.lowered();
    let mut builder = Builder {
        kernel: lowered.kernel.clone(),
        inputs: lowered.inputs.clone(),
        input_names: lowered.input_names.clone(),
        stage,
        keys: Vec::new(),
        encoded: Vec::new(),
        key_dictionaries: Vec::new(),
        columns: Vec::new(),
    };
    builder.kernel.outputs.clear();
    let schema = aggregate.schema();
    for (i, (key, _)) in group.expr().iter().enumerate() {
        let field = Arc::clone(&schema.fields()[i]);
        if let Some(node) = builder.dictionary_key(key, &field)? {
            builder.kernel.group_keys.push(node);
            builder.keys.push(field);
            continue;
        }
        let node = builder
            .argument(key)?
            .ok_or("a constant grouping key is not folded")?;
        let ty = builder.kernel.ty(node);
        if !groupable(ty) || scalar_type(field.data_type()) != Some(ty) {
            return Err(format!("a grouping key of type {}", field.data_type()));
        }
        builder.kernel.group_keys.push(node);
        builder.keys.push(field);
        builder.key_dictionaries.push(None);
    }
    for expr in aggregate.aggr_expr() {
        builder.add(expr)?;
    }
    let width: usize = builder.keys.len() + builder.columns.len();
    if width != aggregate.schema().fields().len() {
        return Err("the partial state's columns do not match its schema".into());
    }
    let (kernel, renumber) = builder.kernel.pruned();
    kernel.validate()?;
    let labels = lowered
        .labels
        .iter()
        .filter_map(|(id, text)| renumber[id.index()].map(|new| (new, text.clone())))
        .collect();
    let shown = aggregate
        .aggr_expr()
        .iter()
        .map(|e| e.name().to_string())
        .collect();
    Ok(FoldPlan {
        kernel,
        inputs: builder.inputs,
        input_names: builder.input_names,
        labels,
        keys: builder.keys,
        encoded: builder.encoded,
        key_dictionaries: builder.key_dictionaries,
        columns: builder.columns,
        shown,
        dense: DenseKeys::of(stage, group.expr()),
    })
}

/// Whether string keys fold: yes, unless `COREPY_FOLD_STRING_KEYS=0`. With many distinct
/// strings (150,000 customer names, a million comments) the fold measured 6–13× slower
/// than DataFusion's partial aggregation, so a partition that meets more than a few
/// thousand groups goes back to it (`fallback.rs`); with few (TPC-H q1's flags) the fold
/// is faster.
fn string_keys_enabled() -> bool {
    !matches!(
        std::env::var("COREPY_FOLD_STRING_KEYS").as_deref(),
        Ok("0" | "false" | "off" | "no")
    )
}

struct Builder<'a> {
    kernel: Kernel,
    inputs: Vec<StageInput>,
    input_names: Vec<String>,
    stage: &'a JitExec,
    keys: Vec<FieldRef>,
    encoded: Vec<usize>,
    key_dictionaries: Vec<Option<usize>>,
    columns: Vec<StateColumn>,
}

impl Builder<'_> {
    /// Adds the kernel aggregates and state columns of one DataFusion aggregate.
    fn add(&mut self, expr: &Arc<AggregateFunctionExpr>) -> Result<(), String> {
        let name = expr.fun().name().to_string();
        if expr.is_distinct() || !expr.order_bys().is_empty() || expr.ignore_nulls() {
            return Err(format!("{name} with DISTINCT, ORDER BY or IGNORE NULLS"));
        }
        let fields = expr.state_fields().map_err(|e| e.to_string())?;
        let args = expr.expressions();
        let [arg] = args.as_slice() else {
            return Err(format!("{name} of {} arguments", args.len()));
        };
        let arg = self.argument(arg)?;
        let ty = arg.map(|a| self.kernel.ty(a));
        let float = ty.is_some_and(ScalarType::is_float);
        if float && matches!(name.as_str(), "min" | "max") && !self.kernel.group_keys.is_empty() {
            // DataFusion's grouped min and max of floats keep a value unless the new one
            // compares less (greater) by `partial_cmp`, from a start of f64::MAX (MIN): a NaN
            // stands until the next value, and a group of +inf has the min f64::MAX. The
            // kernel folds in total order, as DataFusion's ungrouped min and max do; rather
            // than answer differently, these stay with DataFusion.
            return Err(format!("grouped {name} of a float"));
        }
        // A sum or mean of a decimal column cast to a double sums its unscaled integers
        // (a double too, so `ty` stands).
        let unscaled = matches!(name.as_str(), "sum" | "avg")
            .then(|| self.unscaled_sum(arg))
            .flatten();
        let (arg, divided) = match unscaled {
            Some((integers, scale)) => (Some(integers), Some(scale)),
            None => (arg, None),
        };
        let sources = self.sources(&name, arg, ty, divided)?;
        if fields.len() != sources.len() {
            return Err(format!(
                "{name}'s partial state has {} columns",
                fields.len()
            ));
        }
        for (field, source) in fields.into_iter().zip(sources) {
            self.check_field(&field, source)?;
            self.columns.push(StateColumn { field, source });
        }
        Ok(())
    }

    /// The kernel aggregates of an aggregate `name` of `arg` (of type `ty`), as the columns
    /// of its partial state; a sum's value over 10^scale when `divided` (see
    /// [`Self::unscaled_sum`]).
    fn sources(
        &mut self,
        name: &str,
        arg: Option<ValueId>,
        ty: Option<ScalarType>,
        divided: Option<i8>,
    ) -> Result<Vec<Source>, String> {
        let sum_value = |sum: usize| match divided {
            Some(scale) => Source::DividedSum(sum, scale),
            None => Source::Value(sum),
        };
        Ok(match (name, ty) {
            ("count", _) => vec![Source::Rows(self.push(AggFunc::Count, arg))],
            ("sum", Some(t)) if aggregate_summable(t) => {
                vec![sum_value(self.push(AggFunc::Sum, arg))]
            }
            ("min", Some(t)) if aggregate_ordered(t) => {
                vec![Source::Value(self.push(AggFunc::Min, arg))]
            }
            ("max", Some(t)) if aggregate_ordered(t) => {
                vec![Source::Value(self.push(AggFunc::Max, arg))]
            }
            ("avg", Some(ScalarType::F64 | ScalarType::Decimal128 { .. })) => {
                let count = self.push(AggFunc::Count, arg);
                let sum = self.push(AggFunc::Sum, arg);
                vec![self.rows_seen(count), sum_value(sum)]
            }
            ("var" | "var_pop" | "stddev" | "stddev_pop", Some(ScalarType::F64)) => {
                // DataFusion's partial state of each: the rows, the mean and the sum of
                // squared deviations, never NULL.
                let moments = self.push(AggFunc::Moments, arg);
                vec![
                    Source::Rows(moments),
                    Source::Mean(moments),
                    Source::SquaredDeviations(moments),
                ]
            }
            _ => return Err(format!("{name} of {ty:?} is not folded")),
        })
    }

    /// The count column of an `avg`'s partial state: DataFusion's grouped `avg` marks a
    /// group that saw no value with a NULL count, its ungrouped one with 0.
    fn rows_seen(&self, count: usize) -> Source {
        if self.kernel.group_keys.is_empty() {
            Source::Rows(count)
        } else {
            Source::SeenRows(count)
        }
    }

    /// When `arg` casts a decimal column to a double (TPC-H Q1's `avg(CAST(l_quantity AS
    /// DOUBLE))`): a node that casts the column's unscaled integers to doubles (the same
    /// buffer read as `Decimal128(p, 0)`, whose cast divides by nothing), and the scale.
    /// A `sum` or `avg` then folds those and divides once per group
    /// ([`Source::DividedSum`]), not once a row: three `fdiv`s a row, divider-bound, were a
    /// third of Q1's kernel. Integers below 2^53 and their sums are exact in a double, so
    /// the answer is then the exact sum, rounded once by the division — at least as close
    /// as DataFusion's, which rounds every row's quotient and every addition; it can differ
    /// from DataFusion's in the last bits, as any other order of addition can. Larger
    /// values round as any sum of doubles does; nothing wraps.
    fn unscaled_sum(&mut self, arg: Option<ValueId>) -> Option<(ValueId, i8)> {
        let node = arg?;
        let Op::Cast(inner) = self.kernel.nodes[node.index()].op else {
            return None;
        };
        let Op::Load(k) = self.kernel.nodes[inner.index()].op else {
            return None;
        };
        let (ScalarType::F64, ScalarType::Decimal128 { precision, scale }) =
            (self.kernel.ty(node), self.kernel.ty(inner))
        else {
            return None;
        };
        let integers = ScalarType::Decimal128 {
            precision,
            scale: 0,
        };
        let column = self.inputs[k].clone();
        let existing = (0..self.inputs.len())
            .find(|&j| self.inputs[j] == column && self.kernel.inputs[j].ty == integers);
        let load = match existing {
            Some(j) => self.loaded(j),
            None => {
                self.inputs.push(column);
                let shown = format!("{} (unscaled)", self.input_names[k]);
                self.input_names.push(shown);
                self.kernel.input(integers)
            }
        };
        let cast = Op::Cast(load);
        let found = self.kernel.nodes.iter().position(|n| n.op == cast);
        let cast = match found {
            Some(i) => ValueId(i as u32),
            None => self.kernel.push(cast, ScalarType::F64),
        };
        Some((cast, scale))
    }

    /// The node that loads kernel input `k`.
    fn loaded(&self, k: usize) -> ValueId {
        let node = self.kernel.nodes.iter().position(|n| n.op == Op::Load(k));
        ValueId(node.expect("an input's load") as u32)
    }

    /// The kernel aggregate for `func` of `arg`, shared with one that folds the same
    /// argument where it can be: every aggregate counts the kept rows where its argument
    /// is not NULL, which is what a count of that argument is. So `avg(x)` folds one sum,
    /// `count(x), max(x)` one max, and a second `sum(x)` nothing new.
    fn push(&mut self, func: AggFunc, arg: Option<ValueId>) -> usize {
        let aggregates = &mut self.kernel.aggregates;
        let of_arg =
            |f: &dyn Fn(AggFunc) -> bool| aggregates.iter().position(|a| a.arg == arg && f(a.func));
        let shared = if func == AggFunc::Count {
            of_arg(&|_| true)
        } else if let Some(i) = of_arg(&|f| f == func) {
            Some(i)
        } else if let Some(i) = of_arg(&|f| f == AggFunc::Count) {
            // A count so far: it now folds the value too, and counts the same rows.
            aggregates[i].func = func;
            Some(i)
        } else {
            None
        };
        shared.unwrap_or_else(|| {
            aggregates.push(Aggregate { func, arg });
            aggregates.len() - 1
        })
    }

    /// The node an aggregate reads: a stage output's node, or a load of an input column
    /// the stage passes through; `None` for a constant (`count(*)`).
    fn argument(
        &mut self,
        arg: &Arc<dyn datafusion::physical_expr::PhysicalExpr>,
    ) -> Result<Option<ValueId>, String> {
        if let Some(literal) = arg.downcast_ref::<Literal>() {
            return if literal.value().is_null() {
                Err("an aggregate of NULL".into())
            } else {
                Ok(None)
            };
        }
        let Some(column) = arg.downcast_ref::<Column>() else {
            return Err(format!("the argument `{arg}` is not a column of the stage"));
        };
        let lowered = self.stage.lowered();
        match lowered.outputs.get(column.index()) {
            Some(StageOutput::Kernel(j)) => Ok(Some(lowered.kernel.outputs[*j])),
            Some(StageOutput::Pass(i)) => self.load(*i).map(Some),
            None => Err(format!("column {column} is not a stage output")),
        }
    }

    /// A grouping key that is a string column the stage passes on: a kernel input of its
    /// dictionary ids (`None` for a key of another kind).
    fn dictionary_key(
        &mut self,
        key: &Arc<dyn datafusion::physical_expr::PhysicalExpr>,
        field: &FieldRef,
    ) -> Result<Option<ValueId>, String> {
        let Some(column) = key.downcast_ref::<Column>() else {
            return Ok(None);
        };
        if !string_keys_enabled() {
            return Ok(None);
        }
        let lowered = self.stage.lowered();
        let Some(StageOutput::Pass(i)) = lowered.outputs.get(column.index()) else {
            return Ok(None);
        };
        let input_type = self
            .stage
            .stage_input()
            .schema()
            .field(*i)
            .data_type()
            .clone();
        if !is_dictionary_key(&input_type) {
            return Ok(None);
        }
        if *field.data_type() != input_type {
            return Err(format!("a {input_type} key as {}", field.data_type()));
        }
        let dictionary = match self
            .inputs
            .iter()
            .position(|c| *c == StageInput::Column(*i))
        {
            // The same column twice in GROUP BY: the same ids.
            Some(k) => self
                .encoded
                .iter()
                .position(|&e| e == k)
                .ok_or("a string input")?,
            None => {
                self.inputs.push(StageInput::Column(*i));
                self.input_names.push(format!("{} (ids)", field.name()));
                self.kernel.input(ScalarType::U32);
                self.encoded.push(self.inputs.len() - 1);
                self.encoded.len() - 1
            }
        };
        self.key_dictionaries.push(Some(dictionary));
        Ok(Some(self.loaded(self.encoded[dictionary])))
    }

    /// The node that loads column `i` of the stage's input, declared if the kernel has none.
    fn load(&mut self, i: usize) -> Result<ValueId, String> {
        let schema = self.stage.stage_input().schema();
        let field = schema.field(i);
        let ty = scalar_type(field.data_type());
        // The column's own input: its dictionary ids, or its values in its own type (not
        // the unscaled integers of `unscaled_sum`).
        let declared = (0..self.inputs.len()).find(|&k| {
            self.inputs[k] == StageInput::Column(i)
                && (self.encoded.contains(&k) || Some(self.kernel.inputs[k].ty) == ty)
        });
        if let Some(k) = declared {
            if self.encoded.contains(&k) {
                // Ids stand for strings as keys only: their order and sum mean nothing.
                return Err("a string key column as an aggregate argument".into());
            }
            let found = self.kernel.nodes.iter().position(|n| n.op == Op::Load(k));
            if let Some(node) = found {
                return Ok(ValueId(node as u32));
            }
        }
        let ty = ty.ok_or_else(|| format!("{} is not a kernel type", field.data_type()))?;
        self.inputs.push(StageInput::Column(i));
        self.input_names.push(field.name().clone());
        Ok(self.kernel.input(ty))
    }

    /// Checks that a state column holds what its source gives, byte for byte.
    fn check_field(&self, field: &FieldRef, source: Source) -> Result<(), String> {
        let dt = field.data_type();
        let fits = match source {
            Source::Rows(_) | Source::SeenRows(_) => {
                matches!(dt, DataType::Int64 | DataType::UInt64)
            }
            Source::Mean(_) | Source::SquaredDeviations(_) | Source::DividedSum(..) => {
                *dt == DataType::Float64
            }
            Source::Value(i) => {
                let ty = self.kernel.aggregates[i]
                    .value_type(&self.kernel)
                    .expect("a value");
                match (scalar_type(dt), ty) {
                    (
                        Some(ScalarType::Decimal128 { scale: a, .. }),
                        ScalarType::Decimal128 { scale: b, .. },
                    ) => a == b,
                    (Some(state), ty) => state == ty,
                    (None, _) => false,
                }
            }
        };
        if fits {
            Ok(())
        } else {
            Err(format!("a partial state column of type {dt}"))
        }
    }
}
