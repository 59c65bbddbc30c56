//! A small PTX emulator: it parses the modules the renderer writes and runs them on the
//! CPU, so CI (which has no GPU) checks every generated kernel against the interpreter, as
//! tinygrad checks its PTX on an emulator. [`run_rows`] runs a row kernel's module as the
//! engine runs it on a GPU (the engine's differential test uses it as a fourth evaluator).
//!
//! It knows the instructions the renderer emits, no more, and runs a block's threads in
//! lockstep (one program counter a block), which suits code whose branches are uniform
//! across a block — and checks that they are: a divergent branch is an error. Memory
//! accesses are bounds-checked against the buffers handed in.

use std::collections::HashMap;

use super::{decode_failure, Param, PtxModule, BLOCK};
use crate::abi::{bitmap_bytes, padded_rows, ColumnIn, ColumnOut, RunError};
use crate::ir::{Kernel, ScalarType};

/// A parsed entry.
#[derive(Debug)]
pub struct Entry {
    pub params: Vec<String>,
    shared_words: usize,
    registers: usize,
    code: Vec<Inst>,
}

#[derive(Debug, Clone)]
enum Operand {
    Reg(usize),
    Imm(String),
    Special(String),
    /// `[reg]`, `[reg+imm]`, `[shared+imm]` or `[param]`.
    Address(Option<usize>, String, i64),
    Label(usize),
}

#[derive(Debug, Clone)]
struct Inst {
    guard: Option<(bool, usize)>,
    opcode: Vec<String>,
    operands: Vec<Operand>,
}

/// Parses every entry of a module.
pub fn parse(text: &str) -> Result<HashMap<String, Entry>, String> {
    let mut entries = HashMap::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix(".visible .entry ") else {
            continue;
        };
        let name = rest.trim_end_matches('(').to_string();
        let mut params = Vec::new();
        for line in lines.by_ref() {
            let line = line.trim();
            if line == ")" {
                break;
            }
            let p = line
                .trim_start_matches(".param .u64 ")
                .trim_end_matches(',');
            params.push(p.to_string());
        }
        let mut body = Vec::new();
        for line in lines.by_ref() {
            if line == "}" {
                break;
            }
            body.push(line.trim().to_string());
        }
        entries.insert(name, parse_body(params, &body)?);
    }
    Ok(entries)
}

fn parse_body(params: Vec<String>, body: &[String]) -> Result<Entry, String> {
    let mut regs: HashMap<String, usize> = HashMap::new();
    let mut labels: HashMap<String, usize> = HashMap::new();
    let mut shared_words = 0;
    let mut raw = Vec::new();
    for line in body {
        if line.is_empty()
            || line.starts_with("//")
            || line.starts_with(".reg")
            || line.starts_with(".reqntid")
            || line == "{"
        {
            continue;
        }
        if let Some(decl) = line.strip_prefix(".shared .align 8 .b32 shared[") {
            shared_words = decl
                .trim_end_matches("];")
                .parse()
                .map_err(|_| line.clone())?;
            continue;
        }
        if let Some(label) = line.strip_suffix(':') {
            labels.insert(label.to_string(), raw.len());
            continue;
        }
        raw.push(line.trim_end_matches(';').to_string());
    }
    let reg = |name: &str, regs: &mut HashMap<String, usize>| {
        let n = regs.len();
        *regs.entry(name.to_string()).or_insert(n)
    };
    let mut code = Vec::new();
    for line in raw {
        let (guard, rest) = match line.strip_prefix('@') {
            Some(r) => {
                let (p, rest) = r.split_once(' ').ok_or(line.clone())?;
                let (negated, p) = match p.strip_prefix('!') {
                    Some(p) => (true, p),
                    None => (false, p),
                };
                (Some((negated, reg(p, &mut regs))), rest.to_string())
            }
            None => (None, line.clone()),
        };
        let (opcode, operands) = rest.split_once(' ').unwrap_or((&rest, ""));
        let opcode: Vec<String> = opcode.split('.').map(str::to_string).collect();
        let mut ops = Vec::new();
        for o in operands.split(", ").filter(|o| !o.is_empty()) {
            let o = o.trim();
            ops.push(
                if let Some(inner) = o.strip_prefix('[').and_then(|o| o.strip_suffix(']')) {
                    let (base, offset) = match inner.split_once('+') {
                        Some((b, off)) => (b, off.parse::<i64>().map_err(|_| o.to_string())?),
                        None => (inner, 0),
                    };
                    if base.starts_with('%') {
                        Operand::Address(Some(reg(base, &mut regs)), String::new(), offset)
                    } else {
                        Operand::Address(None, base.to_string(), offset)
                    }
                } else if o.starts_with('$') {
                    Operand::Label(*labels.get(o).ok_or(format!("no label {o}"))?)
                } else if o.starts_with("%tid")
                    || o.starts_with("%ctaid")
                    || o.starts_with("%nctaid")
                    || o.starts_with("%ntid")
                    || o == "%lanemask_lt"
                    || o == "shared"
                {
                    Operand::Special(o.to_string())
                } else if o.starts_with('%') {
                    Operand::Reg(reg(o, &mut regs))
                } else {
                    Operand::Imm(o.to_string())
                },
            );
        }
        code.push(Inst {
            guard,
            opcode,
            operands: ops,
        });
    }
    Ok(Entry {
        params,
        shared_words,
        registers: regs.len(),
        code,
    })
}

/// Device memory: buffers at distinct fake addresses.
pub struct Memory {
    pub buffers: Vec<Vec<u8>>,
}

const BASE: u64 = 1 << 40;
const SPAN: u64 = 1 << 32;

impl Memory {
    /// The device address of buffer `i` (0 stays the null pointer).
    pub fn address(i: usize) -> u64 {
        BASE + i as u64 * SPAN
    }

    fn locate(&mut self, address: u64, bytes: usize) -> Result<&mut [u8], String> {
        let i = address
            .checked_sub(BASE)
            .ok_or(format!("address {address:#x} is not in a buffer"))?
            / SPAN;
        let offset = ((address - BASE) % SPAN) as usize;
        let buffer = self
            .buffers
            .get_mut(i as usize)
            .ok_or(format!("no buffer at {address:#x}"))?;
        if offset + bytes > buffer.len() {
            return Err(format!(
                "access of {bytes} bytes at offset {offset} of a {}-byte buffer",
                buffer.len()
            ));
        }
        Ok(&mut buffer[offset..offset + bytes])
    }

    fn load(&mut self, address: u64, bytes: usize) -> Result<u64, String> {
        let slice = self.locate(address, bytes)?;
        let mut raw = [0u8; 8];
        raw[..bytes].copy_from_slice(slice);
        Ok(u64::from_le_bytes(raw))
    }

    fn store(&mut self, address: u64, bytes: usize, value: u64) -> Result<(), String> {
        let slice = self.locate(address, bytes)?;
        slice.copy_from_slice(&value.to_le_bytes()[..bytes]);
        Ok(())
    }
}

/// Runs `entry` over `blocks` blocks of `threads` threads with `params` (by name order).
pub fn launch(
    entry: &Entry,
    params: &[u64],
    blocks: u32,
    threads: u32,
    memory: &mut Memory,
) -> Result<(), String> {
    for block in 0..blocks {
        run_block(entry, params, block, blocks, threads, memory)?;
    }
    Ok(())
}

fn run_block(
    entry: &Entry,
    params: &[u64],
    block: u32,
    blocks: u32,
    threads: u32,
    memory: &mut Memory,
) -> Result<(), String> {
    let n = threads as usize;
    let mut regs = vec![vec![0u64; entry.registers]; n];
    let mut shared = vec![0u8; entry.shared_words * 4];
    let mut pc = 0;
    let mut steps = 0u64;
    while pc < entry.code.len() {
        steps += 1;
        if steps > 50_000_000 {
            return Err("the kernel does not finish".into());
        }
        let inst = &entry.code[pc];
        let active: Vec<bool> = (0..n)
            .map(|t| inst.guard.is_none_or(|(neg, p)| (regs[t][p] != 0) != neg))
            .collect();
        let op = inst.opcode[0].as_str();
        match op {
            "bra" => {
                let taken = active.iter().filter(|a| **a).count();
                if taken != 0 && taken != n {
                    return Err(format!("divergent branch at instruction {pc}"));
                }
                let Operand::Label(target) = inst.operands[0] else {
                    return Err("bra without a label".into());
                };
                pc = if taken == n { target } else { pc + 1 };
                continue;
            }
            "ret" => return Ok(()),
            "bar" => {
                pc += 1;
                continue;
            }
            "vote" => {
                let (Operand::Reg(d), Operand::Reg(p)) = (&inst.operands[0], &inst.operands[1])
                else {
                    return Err("vote operands".into());
                };
                let mut words = vec![0u64; n.div_ceil(32)];
                for (t, r) in regs.iter().enumerate() {
                    if active[t] && r[*p] != 0 {
                        words[t / 32] |= 1 << (t % 32);
                    }
                }
                for (t, r) in regs.iter_mut().enumerate() {
                    if active[t] {
                        r[*d] = words[t / 32];
                    }
                }
                pc += 1;
                continue;
            }
            _ => {}
        }
        for t in 0..n {
            if !active[t] {
                continue;
            }
            let ctx = Thread {
                tid: t as u32,
                block,
                blocks,
                threads,
            };
            step(
                inst,
                &mut regs[t],
                &ctx,
                params,
                &entry.params,
                memory,
                &mut shared,
            )
            .map_err(|e| format!("instruction {pc} ({}): {e}", inst.opcode.join(".")))?;
        }
        pc += 1;
    }
    Ok(())
}

struct Thread {
    tid: u32,
    block: u32,
    blocks: u32,
    threads: u32,
}

fn value(o: &Operand, regs: &[u64], t: &Thread, width: u32) -> Result<u64, String> {
    Ok(match o {
        Operand::Reg(r) => regs[*r],
        Operand::Imm(s) => immediate(s, width)?,
        Operand::Special(s) => match s.as_str() {
            "%tid.x" => t.tid as u64,
            "%ctaid.x" => t.block as u64,
            "%nctaid.x" => t.blocks as u64,
            "%ntid.x" => t.threads as u64,
            "%lanemask_lt" => (1u64 << (t.tid % 32)) - 1,
            "shared" => 0,
            other => return Err(format!("special register {other}")),
        },
        other => return Err(format!("operand {other:?} is not a value")),
    })
}

fn immediate(s: &str, width: u32) -> Result<u64, String> {
    if let Some(hex) = s.strip_prefix("0d") {
        return u64::from_str_radix(hex, 16).map_err(|e| e.to_string());
    }
    if let Some(hex) = s.strip_prefix("0f") {
        return u64::from_str_radix(hex, 16).map_err(|e| e.to_string());
    }
    let v: i128 = s.parse().map_err(|_| format!("immediate {s}"))?;
    Ok(mask(v as u64, width))
}

fn mask(v: u64, width: u32) -> u64 {
    if width >= 64 {
        v
    } else {
        v & ((1u64 << width) - 1)
    }
}

/// The width in bits and kind of a type suffix.
fn type_of(suffix: &str) -> (u32, char) {
    let kind = suffix.chars().next().unwrap_or('b');
    let width = suffix[1..].parse().unwrap_or(1);
    (width, if suffix == "pred" { 'p' } else { kind })
}

fn signed(v: u64, width: u32) -> i64 {
    let shift = 64 - width;
    ((v << shift) as i64) >> shift
}

fn float(v: u64, width: u32) -> f64 {
    if width == 32 {
        f32::from_bits(v as u32) as f64
    } else {
        f64::from_bits(v)
    }
}

fn from_float(x: f64, width: u32) -> u64 {
    if width == 32 {
        (x as f32).to_bits() as u64
    } else {
        x.to_bits()
    }
}

fn step(
    inst: &Inst,
    regs: &mut [u64],
    t: &Thread,
    params: &[u64],
    names: &[String],
    memory: &mut Memory,
    shared: &mut [u8],
) -> Result<(), String> {
    let op: Vec<&str> = inst.opcode.iter().map(String::as_str).collect();
    let last = *op.last().expect("an opcode");
    let (width, kind) = type_of(last);
    let dst = || match inst.operands[0] {
        Operand::Reg(r) => Ok(r),
        _ => Err("the destination is not a register".to_string()),
    };
    let arg = |i: usize, w: u32| value(&inst.operands[i], regs, t, w);
    let address = |i: usize, regs: &[u64]| -> Result<u64, String> {
        match &inst.operands[i] {
            Operand::Address(Some(r), _, off) => Ok(regs[*r].wrapping_add(*off as u64)),
            Operand::Address(None, name, off) if name == "shared" => Ok(*off as u64),
            other => Err(format!("address {other:?}")),
        }
    };
    let result: u64 = match op[0] {
        "ld" if op[1] == "param" => {
            let Operand::Address(None, name, _) = &inst.operands[1] else {
                return Err("ld.param".into());
            };
            let i = names
                .iter()
                .position(|n| n == name)
                .ok_or(format!("no parameter {name}"))?;
            params[i]
        }
        "ld" => {
            let a = address(1, regs)?;
            let bytes = (width / 8) as usize;
            let raw = if op[1] == "shared" {
                let mut b = [0u8; 8];
                b[..bytes].copy_from_slice(
                    shared
                        .get(a as usize..a as usize + bytes)
                        .ok_or("shared out of bounds")?,
                );
                u64::from_le_bytes(b)
            } else {
                memory.load(a, bytes)?
            };
            match kind {
                's' => mask(signed(raw, width) as u64, width.max(32)),
                _ => raw,
            }
        }
        "st" => {
            let a = address(0, regs)?;
            let bytes = (width / 8) as usize;
            let v = arg(1, 64)?;
            if op[1] == "shared" {
                shared
                    .get_mut(a as usize..a as usize + bytes)
                    .ok_or("shared out of bounds")?
                    .copy_from_slice(&v.to_le_bytes()[..bytes]);
            } else {
                memory.store(a, bytes, v)?;
            }
            return Ok(());
        }
        "red" => {
            let a = address(0, regs)?;
            let bytes = (width / 8) as usize;
            let old = memory.load(a, bytes)?;
            let v = arg(1, width)?;
            let new = match op[2] {
                "min" => old.min(v),
                "add" => mask(old.wrapping_add(v), width),
                "or" => old | v,
                other => return Err(format!("red.{other}")),
            };
            memory.store(a, bytes, new)?;
            return Ok(());
        }
        "mov" => arg(1, width)?,
        "cvta" => arg(1, 64)?,
        "setp" => {
            let (w, k) = type_of(op[2]);
            let (a, b) = (arg(1, w)?, arg(2, w)?);
            let r = match k {
                'f' => {
                    let (x, y) = (float(a, w), float(b, w));
                    match op[1] {
                        "eq" => x == y,
                        "ne" => x != y && !x.is_nan() && !y.is_nan(),
                        "lt" => x < y,
                        "le" => x <= y,
                        "gt" => x > y,
                        "ge" => x >= y,
                        "nan" => x.is_nan() || y.is_nan(),
                        "neu" => x != y,
                        other => return Err(format!("setp.{other}")),
                    }
                }
                's' => compare(op[1], signed(a, w), signed(b, w))?,
                _ => compare(op[1], a, b)?,
            };
            r as u64
        }
        "selp" => {
            let p = arg(3, 1)?;
            if p != 0 {
                arg(1, width)?
            } else {
                arg(2, width)?
            }
        }
        "and" | "or" | "xor" => {
            let (a, b) = (arg(1, width)?, arg(2, width)?);
            let r = match op[0] {
                "and" => a & b,
                "or" => a | b,
                _ => a ^ b,
            };
            if kind == 'p' {
                (r != 0) as u64
            } else {
                mask(r, width)
            }
        }
        "not" => {
            let a = arg(1, width)?;
            if kind == 'p' {
                (a == 0) as u64
            } else {
                mask(!a, width)
            }
        }
        // Shift amounts past the width are clamped to it (PTX): all bits shifted out.
        "shl" => {
            let s = arg(2, 32)? as u32;
            if s >= width {
                0
            } else {
                mask(arg(1, width)? << s, width)
            }
        }
        "shr" => {
            let s = arg(2, 32)? as u32;
            let a = arg(1, width)?;
            match (kind, s >= width) {
                ('s', _) => mask((signed(a, width) >> s.min(width - 1)) as u64, width),
                (_, true) => 0,
                _ => a >> s,
            }
        }
        "clz" => {
            let a = arg(1, width)?;
            (if width == 64 {
                a.leading_zeros()
            } else {
                (a as u32).leading_zeros()
            }) as u64
        }
        "popc" => (arg(1, 32)? as u32).count_ones() as u64,
        "cvt" => convert(&op, arg(1, 64)?)?,
        "copysign" => {
            let (a, b) = (arg(1, width)?, arg(2, width)?);
            from_float(float(b, width).copysign(float(a, width)), width)
        }
        "sqrt" | "neg" | "abs" => {
            let a = arg(1, width)?;
            match kind {
                'f' => {
                    let x = float(a, width);
                    let r = match op[0] {
                        "sqrt" => x.sqrt(),
                        "neg" => -x,
                        _ => x.abs(),
                    };
                    from_float(r, width)
                }
                _ => {
                    let x = signed(a, width);
                    mask(
                        if op[0] == "neg" {
                            x.wrapping_neg()
                        } else {
                            x.wrapping_abs()
                        } as u64,
                        width,
                    )
                }
            }
        }
        "add" | "sub" | "mul" | "div" | "rem" | "min" | "max" | "mad" => {
            let (a, b) = (arg(1, width)?, arg(2, width)?);
            if kind == 'f' {
                let (x, y) = (float(a, width), float(b, width));
                let r = match op[0] {
                    "add" => x + y,
                    "sub" => x - y,
                    "mul" => x * y,
                    "div" => x / y,
                    // PTX's min and max return the other operand for one NaN.
                    "max" => x.max(y),
                    "min" => x.min(y),
                    other => return Err(format!("float {other}")),
                };
                // f32 arithmetic rounds once: f64 is wide enough for + − × ÷ of f32s.
                from_float(r, width)
            } else {
                integer(&op, kind, width, a, b, || arg(3, width))?
            }
        }
        other => return Err(format!("unknown instruction {other}")),
    };
    let d = dst()?;
    regs[d] = result;
    Ok(())
}

fn compare<T: PartialOrd>(cmp: &str, a: T, b: T) -> Result<bool, String> {
    Ok(match cmp {
        "eq" => a == b,
        "ne" => a != b,
        "lt" => a < b,
        "le" => a <= b,
        "gt" => a > b,
        "ge" => a >= b,
        other => return Err(format!("integer setp.{other}")),
    })
}

fn integer(
    op: &[&str],
    kind: char,
    width: u32,
    a: u64,
    b: u64,
    c: impl Fn() -> Result<u64, String>,
) -> Result<u64, String> {
    let (sa, sb) = (signed(a, width) as i128, signed(b, width) as i128);
    let (ua, ub) = (a as u128, b as u128);
    let s = kind == 's';
    let r: u128 = match op[0] {
        "add" => ua.wrapping_add(ub),
        "sub" => ua.wrapping_sub(ub),
        "mul" | "mad" => {
            let product = if s { (sa * sb) as u128 } else { ua * ub };
            let product = if op[1] == "hi" {
                product >> width
            } else {
                product
            };
            if op[0] == "mad" {
                product.wrapping_add(c()? as u128)
            } else {
                product
            }
        }
        "div" | "rem" if b == 0 => return Err("integer division by zero".into()),
        "div" => {
            if s {
                (sa / sb) as u128
            } else {
                ua / ub
            }
        }
        "rem" => {
            if s {
                (sa % sb) as u128
            } else {
                ua % ub
            }
        }
        "min" => {
            if s {
                sa.min(sb) as u128
            } else {
                ua.min(ub)
            }
        }
        "max" => {
            if s {
                sa.max(sb) as u128
            } else {
                ua.max(ub)
            }
        }
        other => return Err(format!("integer {other}")),
    };
    Ok(mask(r as u64, width))
}

/// `cvt[.mode].to.from`.
fn convert(op: &[&str], a: u64) -> Result<u64, String> {
    let (mode, to, from) = match op.len() {
        3 => ("", op[1], op[2]),
        _ => (op[1], op[2], op[3]),
    };
    let (tw, tk) = type_of(to);
    let (fw, fk) = type_of(from);
    Ok(match (fk, tk) {
        ('f', 'f') => {
            let x = float(a, fw);
            let r = match mode {
                "rmi" => x.floor(),
                "rpi" => x.ceil(),
                "rzi" => x.trunc(),
                "rni" => x.round_ties_even(),
                _ => x,
            };
            from_float(r, tw)
        }
        ('f', k) => {
            let x = float(a, fw).trunc();
            let v = if x.is_nan() {
                0
            } else if k == 's' {
                (x as i64).clamp(-(1i64 << (tw - 1)), (1i64 << (tw - 1)) - 1) as u64
            } else {
                (x as u64).min(mask(u64::MAX, tw))
            };
            mask(v, tw)
        }
        (k, 'f') => {
            let x = if k == 's' {
                signed(a, fw) as f64
            } else {
                mask(a, fw) as f64
            };
            // Through f64 is exact for 32-bit sources; 64-bit ones convert directly.
            if tw == 32 {
                if k == 's' {
                    (signed(a, fw) as f32).to_bits() as u64
                } else {
                    (mask(a, fw) as f32).to_bits() as u64
                }
            } else {
                x.to_bits()
            }
        }
        (k, _) => {
            let v = if k == 's' {
                signed(a, fw) as u64
            } else {
                mask(a, fw)
            };
            mask(v, tw)
        }
    })
}

/// Blocks of every emulated launch: few enough that blocks take several tiles each.
pub const BLOCKS: u32 = 2;

/// Runs a rendered module on the emulator as the engine runs it on a GPU: device buffers
/// padded to whole 64-row words, a filter's two passes with the prefix sums between them.
pub fn run_rows(
    kernel: &Kernel,
    module: &PtxModule,
    inputs: &[ColumnIn<'_>],
    rows: usize,
    outputs: &mut [ColumnOut<'_>],
    selection: Option<&mut [u8]>,
) -> Result<usize, RunError> {
    let entries = parse(&module.text).map_err(RunError::BadBuffers)?;
    let padded = padded_rows(rows).max(64);
    let tiles = rows.div_ceil(BLOCK as usize);
    let mut memory = Memory {
        buffers: Vec::new(),
    };
    let add = |memory: &mut Memory, bytes: Vec<u8>| {
        memory.buffers.push(bytes);
        Memory::address(memory.buffers.len() - 1)
    };
    let padded_copy = |bytes: &[u8], len: usize| {
        let mut v = bytes.to_vec();
        v.resize(len.max(bytes.len()).next_multiple_of(8), 0);
        v
    };
    let mut addresses: Vec<(Param, u64)> = Vec::new();
    for (i, column) in inputs.iter().enumerate() {
        let ty = kernel.inputs[i].ty;
        let len = crate::abi::values_bytes(ty, padded);
        addresses.push((
            Param::InputValues(i),
            add(&mut memory, padded_copy(column.values, len)),
        ));
        let validity = match column.validity {
            Some(bits) => add(&mut memory, padded_copy(bits, bitmap_bytes(padded))),
            None => 0,
        };
        addresses.push((Param::InputValidity(i), validity));
    }
    for (o, id) in kernel.outputs.iter().enumerate() {
        let len = crate::abi::values_bytes(kernel.ty(*id), padded);
        let fill = if kernel.ty(*id) == ScalarType::Bool {
            0
        } else {
            0xA5
        };
        addresses.push((Param::OutputValues(o), add(&mut memory, vec![fill; len])));
        addresses.push((
            Param::OutputValidity(o),
            add(&mut memory, vec![0; bitmap_bytes(padded)]),
        ));
    }
    let selection_at = add(&mut memory, vec![0; bitmap_bytes(padded)]);
    addresses.push((Param::Selection, selection_at));
    let counts_at = add(&mut memory, vec![0; tiles.max(1) * 4]);
    addresses.push((Param::TileCounts, counts_at));
    let offsets_at = add(&mut memory, vec![0; tiles.max(1) * 8]);
    addresses.push((Param::TileOffsets, offsets_at));
    addresses.push((Param::Rows, rows as u64));
    let failure_at = add(&mut memory, u64::MAX.to_le_bytes().to_vec());
    addresses.push((Param::Failure, failure_at));
    let buffer = |address: u64| ((address - Memory::address(0)) >> 32) as usize;

    let mut written = rows;
    for signature in &module.entries {
        let entry = &entries[&signature.name];
        let names: Vec<String> = signature.params.iter().map(Param::name).collect();
        assert_eq!(
            entry.params, names,
            "the launch code's parameters are the entry's"
        );
        let params: Vec<u64> = signature
            .params
            .iter()
            .map(|p| addresses.iter().find(|(q, _)| q == p).expect("a buffer").1)
            .collect();
        launch(entry, &params, BLOCKS, BLOCK, &mut memory).map_err(RunError::BadBuffers)?;
        if signature.params.contains(&Param::TileCounts) {
            // The prefix sums between the passes (the engine's scan).
            let counts = &memory.buffers[buffer(counts_at)];
            let mut offsets = Vec::new();
            let mut total = 0u64;
            for t in 0..tiles {
                offsets.extend_from_slice(&total.to_le_bytes());
                total += u32::from_le_bytes(counts[t * 4..t * 4 + 4].try_into().unwrap()) as u64;
            }
            offsets.resize(tiles.max(1) * 8, 0);
            memory.buffers[buffer(offsets_at)] = offsets;
            written = total as usize;
        }
    }
    let failure = u64::from_le_bytes(memory.buffers[buffer(failure_at)][..8].try_into().unwrap());
    if let Some(f) = decode_failure(failure) {
        return Err(RunError::Failed(f));
    }
    for (o, out) in outputs.iter_mut().enumerate() {
        let find = |p: Param| buffer(addresses.iter().find(|(q, _)| *q == p).unwrap().1);
        let values = &memory.buffers[find(Param::OutputValues(o))];
        let n = out.values_len().min(values.len());
        out.write_values(0, &values[..n]);
        let validity = &memory.buffers[find(Param::OutputValidity(o))];
        let n = out.validity.len().min(validity.len());
        out.validity[..n].copy_from_slice(&validity[..n]);
    }
    if let Some(bits) = selection {
        let n = bits.len();
        bits.copy_from_slice(&memory.buffers[buffer(selection_at)][..n]);
    }
    Ok(written)
}
