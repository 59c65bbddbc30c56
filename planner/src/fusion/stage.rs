//! `FusedStage`: the logical node that replaces a fused Filter/Projection region.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::common::{Column, DFSchemaRef, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};

use super::lower::{lower_stage, Lowered};

/// A filter (optional) and a projection over `input`, computed by one compiled kernel.
#[derive(Debug, Clone)]
pub struct FusedStage {
    pub input: LogicalPlan,
    pub predicate: Option<Expr>,
    /// One expression per output column, named as the columns of `schema`.
    pub exprs: Vec<Expr>,
    pub schema: DFSchemaRef,
    /// The kernel, or `None` when a later optimizer pass changed the input so that the
    /// region no longer lowers: the physical planner then uses DataFusion's operators.
    pub lowered: Option<Arc<Lowered>>,
}

impl FusedStage {
    /// Builds the stage, or says why the region cannot be fused.
    pub fn try_new(
        input: LogicalPlan,
        predicate: Option<Expr>,
        exprs: Vec<Expr>,
        schema: DFSchemaRef,
    ) -> std::result::Result<Self, super::NotFused> {
        let lowered = lower_stage(input.schema(), predicate.as_ref(), &exprs)?;
        Ok(FusedStage {
            input,
            predicate,
            exprs,
            schema,
            lowered: Some(Arc::new(lowered)),
        })
    }

    /// The stage `plan` is, if it is one.
    pub fn of(plan: &LogicalPlan) -> Option<&FusedStage> {
        let LogicalPlan::Extension(extension) = plan else {
            return None;
        };
        extension.node.as_any().downcast_ref::<FusedStage>()
    }

    /// The input column that output `column` passes on unchanged, if it is one. (Rules that
    /// walk down row-wise nodes see a stage as a Filter of its predicate under a Projection
    /// of these columns.)
    pub fn passed(&self, column: &Column) -> Option<&Column> {
        let index = self.schema.index_of_column(column).ok()?;
        match self.exprs.get(index)? {
            Expr::Column(c) => Some(c),
            _ => None,
        }
    }

    /// The same stage over a new input; never fails (see [`FusedStage::lowered`]).
    ///
    /// The kernel depends on the input's schema only, so an input that kept its schema (the
    /// optimizer rebuilds a node whenever anything below it changed) keeps the kernel
    /// without lowering it again.
    fn with_input(&self, input: LogicalPlan) -> Self {
        let same_schema = input.schema() == self.input.schema();
        let lowered = if same_schema {
            self.lowered.clone()
        } else {
            lower_stage(input.schema(), self.predicate.as_ref(), &self.exprs)
                .ok()
                .map(Arc::new)
        };
        FusedStage {
            input,
            predicate: self.predicate.clone(),
            exprs: self.exprs.clone(),
            schema: Arc::clone(&self.schema),
            lowered,
        }
    }
}

impl PartialEq for FusedStage {
    fn eq(&self, other: &Self) -> bool {
        self.input == other.input && self.predicate == other.predicate && self.exprs == other.exprs
    }
}

impl Eq for FusedStage {}

impl Hash for FusedStage {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.input.hash(state);
        self.predicate.hash(state);
        self.exprs.hash(state);
    }
}

impl PartialOrd for FusedStage {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.predicate.partial_cmp(&other.predicate) {
            Some(Ordering::Equal) => self.exprs.partial_cmp(&other.exprs),
            o => o,
        }
    }
}

impl UserDefinedLogicalNodeCore for FusedStage {
    fn name(&self) -> &str {
        "FusedStage"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    /// None: the stage's expressions are final. Rules of later optimizer passes would
    /// otherwise rewrite them (simplify, extract common sub-expressions) into forms that no
    /// longer match the compiled kernel. An extension node that shows no expressions is left
    /// alone by projection pruning, so the input keeps every column the stage reads.
    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    /// The input columns the filter and the expressions read (all of the expressions: they
    /// are final), so that projection pruning narrows the input below the stage — a join
    /// under it need not carry columns nothing reads.
    fn necessary_children_exprs(&self, _output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        let schema = self.input.schema();
        let mut read: Vec<usize> = Vec::new();
        for expr in self.predicate.iter().chain(&self.exprs) {
            for column in expr.column_refs() {
                read.push(schema.index_of_column(column).ok()?);
            }
        }
        read.sort_unstable();
        read.dedup();
        // A stage that reads no column keeps its input as it is (its row count matters).
        (!read.is_empty()).then(|| vec![read])
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "FusedStage:")?;
        if let Some(p) = &self.predicate {
            write!(f, " filter={p},")?;
        }
        let exprs: Vec<String> = self.exprs.iter().map(|e| e.to_string()).collect();
        write!(f, " exprs=[{}]", exprs.join(", "))
    }

    fn with_exprs_and_inputs(
        &self,
        _exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> Result<Self> {
        Ok(self.with_input(inputs.swap_remove(0)))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::logical_expr::{col, lit, table_scan, LogicalPlanBuilder};

    use super::*;
    use crate::fusion::StageInput;

    /// `t(a)`, or `t(z, a)` with a column before `a`.
    fn scan(column_before: bool) -> LogicalPlan {
        let mut fields = vec![Field::new("a", DataType::Float64, true)];
        if column_before {
            fields.insert(0, Field::new("z", DataType::Int64, true));
        }
        let schema = Schema::new(fields);
        table_scan(Some("t"), &schema, None)
            .unwrap()
            .build()
            .unwrap()
    }

    fn stage() -> FusedStage {
        let input = scan(false);
        let exprs = vec![(col("a") * lit(2.0)).alias("b")];
        let schema = LogicalPlanBuilder::from(input.clone())
            .project(exprs.clone())
            .unwrap()
            .schema()
            .clone();
        FusedStage::try_new(input, Some(col("a").gt(lit(1.0))), exprs, schema).unwrap()
    }

    #[test]
    fn a_new_input_with_the_same_schema_keeps_the_kernel() {
        let stage = stage();
        let rebuilt = stage.with_input(scan(false));
        let (before, after) = (stage.lowered.unwrap(), rebuilt.lowered.unwrap());
        assert!(Arc::ptr_eq(&before, &after));
    }

    #[test]
    fn a_new_input_with_another_schema_lowers_again() {
        let stage = stage();
        let rebuilt = stage.with_input(scan(true));
        let (before, after) = (stage.lowered.unwrap(), rebuilt.lowered.unwrap());
        assert!(!Arc::ptr_eq(&before, &after));
        assert_eq!(before.inputs, vec![StageInput::Column(0)]);
        assert_eq!(
            after.inputs,
            vec![StageInput::Column(1)],
            "the kernel reads `a` from the second column now"
        );
    }
}
