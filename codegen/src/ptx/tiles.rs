//! The loop every generated entry runs: blocks take tiles of work in turn (tile `ctaid`,
//! then `ctaid + nctaid`, …), so any grid covers any amount of work, and the loop's branch
//! is the same for every thread of a block (barriers and ballots inside it are safe).

use super::node::Lower;
use super::text::{Class, Reg};

/// A block-uniform loop over tiles: `for (tile = ctaid; tile * per_tile < end; tile += nctaid)`.
pub struct TileLoop {
    /// The tile this block is on (a `.b64` register updated each round).
    pub tile: Reg,
    nctaid: Reg,
    top: String,
    done: String,
}

impl TileLoop {
    pub fn open(l: &mut Lower<'_>, per_tile: u64, end: &str) -> (Self, Reg) {
        let ctaid = l.code.reg(Class::B32);
        l.code.ins("mov.u32", &[&ctaid, "%ctaid.x"]);
        let n32 = l.code.reg(Class::B32);
        l.code.ins("mov.u32", &[&n32, "%nctaid.x"]);
        let tile = l.code.reg(Class::B64);
        l.code.ins("cvt.u64.u32", &[&tile, &ctaid]);
        let nctaid = l.code.reg(Class::B64);
        l.code.ins("cvt.u64.u32", &[&nctaid, &n32]);
        let top = l.code.new_label("tile");
        let done = l.code.new_label("done");
        l.code.label(&top);
        let start = l.code.reg(Class::B64);
        l.code
            .ins("mul.lo.u64", &[&start, &tile, &per_tile.to_string()]);
        let finished = l.setp("ge", "u64", &start, end);
        l.code.ins_if(&finished, "bra.uni", &[&done]);
        (
            TileLoop {
                tile,
                nctaid,
                top,
                done,
            },
            start,
        )
    }

    pub fn close(self, l: &mut Lower<'_>) {
        let next = l.code.reg(Class::B64);
        l.code.ins("add.u64", &[&next, &self.tile, &self.nctaid]);
        l.code.ins("mov.u64", &[&self.tile, &next]);
        l.code.ins("bra.uni", &[&self.top]);
        l.code.label(&self.done);
        l.code.bare("ret");
    }
}

/// The thread's index in its block, as `.b32` and as `.b64`.
pub fn thread_index(l: &mut Lower<'_>) -> (Reg, Reg) {
    let tid = l.code.reg(Class::B32);
    l.code.ins("mov.u32", &[&tid, "%tid.x"]);
    let tid64 = l.code.reg(Class::B64);
    l.code.ins("cvt.u64.u32", &[&tid64, &tid]);
    (tid, tid64)
}
