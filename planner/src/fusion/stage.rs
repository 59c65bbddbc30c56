//! `FusedStage`: the logical node that replaces a fused Filter/Projection region.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::common::{DFSchemaRef, Result};
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
