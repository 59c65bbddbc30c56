//! PTX text: register classes, fresh registers, instructions and labels.
//!
//! Registers are never reused (one per value, as in SSA): ptxas allocates the hardware
//! registers, and a fresh name per value keeps the generated code easy to read. Every
//! instruction is one line `[@pred ]opcode operands;`, a regular form that the tests'
//! emulator parses back.

use std::fmt::Write;

/// The PTX ISA version every module declares (CUDA 12.0: drivers from 12.0 on load it).
pub const VERSION: &str = "8.0";
/// The oldest architecture the modules target (A100); newer devices JIT them.
pub const TARGET: &str = "sm_80";
/// Threads per block of every generated kernel (`.reqntid`): eight warps.
pub const BLOCK: u32 = 256;

/// A class of registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Pred,
    B32,
    B64,
    F32,
    F64,
    /// A decimal128: two `.b64` registers named together as `"lo:hi"` (PTX 8.0 has no
    /// 128-bit integers).
    Wide,
}

impl Class {
    const ALL: [Class; 5] = [Class::Pred, Class::B32, Class::B64, Class::F32, Class::F64];

    fn prefix(self) -> &'static str {
        match self {
            Class::Pred => "%p",
            Class::B32 => "%r",
            Class::B64 => "%rd",
            Class::F32 => "%f",
            Class::F64 => "%fd",
            Class::Wide => unreachable!("a wide value is two .b64 registers"),
        }
    }

    fn declared(self) -> &'static str {
        match self {
            Class::Pred => ".pred",
            Class::B32 => ".b32",
            Class::B64 => ".b64",
            Class::F32 => ".f32",
            Class::F64 => ".f64",
            Class::Wide => unreachable!("a wide value is two .b64 registers"),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A register's name (`%rd12`).
pub type Reg = String;

/// The body of one entry: its instructions and the registers they use.
#[derive(Debug, Default)]
pub struct Code {
    counts: [u32; 6],
    lines: String,
    labels: u32,
}

impl Code {
    /// A fresh register of `class`.
    pub fn reg(&mut self, class: Class) -> Reg {
        if class == Class::Wide {
            let (lo, hi) = (self.reg(Class::B64), self.reg(Class::B64));
            return format!("{lo}:{hi}");
        }
        let n = &mut self.counts[class.index()];
        *n += 1;
        format!("{}{}", class.prefix(), *n - 1)
    }

    /// One instruction, e.g. `ins("add.rn.f64", &[&d, &a, &b])`.
    pub fn ins(&mut self, opcode: &str, operands: &[&str]) {
        let _ = writeln!(self.lines, "\t{opcode} {};", operands.join(", "));
    }

    /// One instruction executed only where `pred` holds (`!pred` negates it).
    pub fn ins_if(&mut self, pred: &str, opcode: &str, operands: &[&str]) {
        let _ = writeln!(self.lines, "\t@{pred} {opcode} {};", operands.join(", "));
    }

    /// An instruction with no operands (`ret`, `bar.sync 0` is written with its operand).
    pub fn bare(&mut self, opcode: &str) {
        let _ = writeln!(self.lines, "\t{opcode};");
    }

    /// A comment line, for the reader of `explain(kernels=True)`.
    pub fn comment(&mut self, text: &str) {
        let _ = writeln!(self.lines, "\t// {text}");
    }

    pub fn new_label(&mut self, stem: &str) -> String {
        self.labels += 1;
        format!("${stem}_{}", self.labels)
    }

    pub fn label(&mut self, label: &str) {
        let _ = writeln!(self.lines, "{label}:");
    }

    /// A register of `class` holding the immediate `value` (already in PTX syntax).
    pub fn constant(&mut self, class: Class, value: &str) -> Reg {
        let r = self.reg(class);
        let opcode = match class {
            Class::Pred | Class::Wide => unreachable!("set by setp, or two moves"),
            Class::B32 => "mov.b32",
            Class::B64 => "mov.b64",
            Class::F32 => "mov.f32",
            Class::F64 => "mov.f64",
        };
        self.ins(opcode, &[&r, value]);
        r
    }

    /// The register declarations, then the instructions.
    fn body(&self) -> String {
        let mut out = String::new();
        for class in Class::ALL {
            let n = self.counts[class.index()];
            if n > 0 {
                let _ = writeln!(out, "\t.reg {} {}<{n}>;", class.declared(), class.prefix());
            }
        }
        out.push_str(&self.lines);
        out
    }
}

/// An f64 immediate, bit for bit.
pub fn f64_imm(x: f64) -> String {
    format!("0d{:016X}", x.to_bits())
}

/// An f32 immediate, bit for bit.
pub fn f32_imm(x: f32) -> String {
    format!("0f{:08X}", x.to_bits())
}

/// One `.entry` with `.u64` parameters named `params`, a shared array of `shared_words`
/// 32-bit words (0: none) and `code` as its body.
pub fn entry(name: &str, params: &[String], shared_words: u32, code: &Code) -> String {
    let mut out = String::new();
    let _ = writeln!(out, ".visible .entry {name}(");
    let list: Vec<String> = params
        .iter()
        .map(|p| format!("\t.param .u64 {p}"))
        .collect();
    let _ = writeln!(out, "{}", list.join(",\n"));
    let _ = writeln!(out, ")\n.reqntid {BLOCK}, 1, 1\n{{");
    if shared_words > 0 {
        let _ = writeln!(out, "\t.shared .align 8 .b32 shared[{shared_words}];");
    }
    out.push_str(&code.body());
    out.push_str("}\n");
    out
}

/// The module header every PTX module starts with.
pub fn header() -> String {
    format!(".version {VERSION}\n.target {TARGET}\n.address_size 64\n\n")
}
