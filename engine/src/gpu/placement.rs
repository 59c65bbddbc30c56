//! Where a stage runs: what the user asked for (`device=`, `set_backend`,
//! `COREPY_DEVICE_PRIORITY`), what happens when the GPU cannot take a stage (the fallback
//! policy), and how `auto` decides (the cost model). Each decision keeps its reason, which
//! EXPLAIN prints.

use std::fmt;
use std::str::FromStr;

use corepy_planner::CorepyError;

/// A device a stage can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    Cpu,
    Cuda(usize),
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placement {
    /// Every stage on one device.
    On(Device),
    /// Each stage where the cost model says it is fastest.
    Auto,
}

impl Default for Placement {
    fn default() -> Self {
        Placement::On(Device::Cpu)
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placement::On(d) => d.fmt(f),
            Placement::Auto => f.write_str("auto"),
        }
    }
}

impl FromStr for Placement {
    type Err = CorepyError;

    /// `"cpu"`, `"cuda"` / `"gpu"` (device 0), `"cuda:N"`, or `"auto"`.
    fn from_str(text: &str) -> Result<Self, CorepyError> {
        let t = text.trim().to_ascii_lowercase();
        let device = match t.as_str() {
            "cpu" => Device::Cpu,
            "auto" => return Ok(Placement::Auto),
            "cuda" | "gpu" => Device::Cuda(0),
            other => match other
                .strip_prefix("cuda:")
                .or_else(|| other.strip_prefix("gpu:"))
            {
                Some(n) => Device::Cuda(n.parse().map_err(|_| bad_device(text))?),
                None => return Err(bad_device(text)),
            },
        };
        Ok(Placement::On(device))
    }
}

fn bad_device(text: &str) -> CorepyError {
    CorepyError::invalid_argument(format!(
        "device {text:?} is not one of \"cpu\", \"cuda\", \"cuda:N\", \"gpu\" or \"auto\""
    ))
}

/// The default placement: `COREPY_DEVICE_PRIORITY` (an ordered list such as `gpu,cpu`: the
/// first device is used, and what it cannot run falls back along the list), else the CPU.
pub fn placement_from_env() -> Result<Placement, CorepyError> {
    match std::env::var("COREPY_DEVICE_PRIORITY") {
        Ok(list) if !list.trim().is_empty() => {
            let mut devices = list.split(',').map(str::parse::<Placement>);
            let first = devices.next().expect("split gives one item")?;
            // The rest are checked, so a typo is reported rather than ignored.
            for d in devices {
                d.map_err(|e| {
                    CorepyError::invalid_argument(format!("COREPY_DEVICE_PRIORITY={list:?}: {e}"))
                })?;
            }
            Ok(first)
        }
        _ => Ok(Placement::default()),
    }
}

/// What happens when a stage placed on the GPU cannot run there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Fallback {
    /// Run it on the CPU and warn, naming the stage and the reason.
    #[default]
    Warn,
    /// Fail with an error that names what is missing.
    Raise,
    /// Run it on the CPU quietly (EXPLAIN still says why).
    Silent,
}

impl FromStr for Fallback {
    type Err = CorepyError;

    fn from_str(text: &str) -> Result<Self, CorepyError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "warn" => Ok(Fallback::Warn),
            "raise" => Ok(Fallback::Raise),
            "silent" => Ok(Fallback::Silent),
            _ => Err(CorepyError::invalid_argument(format!(
                "gpu_fallback {text:?} is not one of \"warn\", \"raise\" or \"silent\""
            ))),
        }
    }
}

/// The device settings of a session (a DataFusion config extension, so that the physical
/// planner sees the placement of the query it plans).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GpuOptions {
    pub placement: Placement,
    pub fallback: Fallback,
}

/// What moving a stage to the GPU would cost: the facts the `auto` decision weighs.
#[derive(Debug, Clone, Copy)]
pub struct StageCost {
    /// Bytes the stage reads per row and writes per row.
    pub bytes_in_per_row: usize,
    pub bytes_out_per_row: usize,
    /// Rows per batch the stage sees (its input's batch size).
    pub rows: usize,
    /// Operations per row (nodes of the kernel).
    pub ops_per_row: usize,
    /// Whether the input is already in device memory (no copy in).
    pub resident: bool,
}

/// Rough speeds of the two sides (bytes/s and operations/s); deliberately simple, and
/// printed by EXPLAIN with the estimate so that a wrong guess is visible.
const PCIE_BYTES_PER_S: f64 = 20e9;
const LAUNCH_S: f64 = 20e-6;
const GPU_BYTES_PER_S: f64 = 2.0e12;
const CPU_BYTES_PER_S: f64 = 10e9;
const CPU_OPS_PER_S: f64 = 2e9;
const GPU_OPS_PER_S: f64 = 5e12;

/// The `auto` decision for one stage: the device, and why.
pub fn choose(cost: &StageCost, gpu: Option<Device>) -> (Device, String) {
    let Some(gpu) = gpu else {
        return (Device::Cpu, "auto: no GPU".into());
    };
    let rows = cost.rows as f64;
    let moved = rows
        * (cost.bytes_out_per_row
            + if cost.resident {
                0
            } else {
                cost.bytes_in_per_row
            }) as f64;
    let touched = rows * (cost.bytes_in_per_row + cost.bytes_out_per_row) as f64;
    let ops = rows * cost.ops_per_row as f64;
    let cpu = (touched / CPU_BYTES_PER_S).max(ops / CPU_OPS_PER_S);
    let device =
        LAUNCH_S + moved / PCIE_BYTES_PER_S + (touched / GPU_BYTES_PER_S).max(ops / GPU_OPS_PER_S);
    let estimate = format!(
        "estimated {:.0} µs on the GPU ({:.1} MB moved) vs {:.0} µs on the CPU per batch",
        device * 1e6,
        moved / 1e6,
        cpu * 1e6
    );
    if device < cpu {
        (gpu, format!("auto: {estimate}"))
    } else {
        (Device::Cpu, format!("auto: {estimate}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse_as_the_api_spells_them() {
        assert_eq!(
            "cpu".parse::<Placement>().unwrap(),
            Placement::On(Device::Cpu)
        );
        assert_eq!(
            "CUDA".parse::<Placement>().unwrap(),
            Placement::On(Device::Cuda(0))
        );
        assert_eq!(
            "cuda:1".parse::<Placement>().unwrap(),
            Placement::On(Device::Cuda(1))
        );
        assert_eq!(
            "gpu".parse::<Placement>().unwrap(),
            Placement::On(Device::Cuda(0))
        );
        assert_eq!("auto".parse::<Placement>().unwrap(), Placement::Auto);
        let err = "tpu".parse::<Placement>().unwrap_err().to_string();
        assert!(err.contains("\"tpu\"") && err.contains("cuda:N"), "{err}");
        assert!("cuda:x".parse::<Placement>().is_err());
        assert_eq!("raise".parse::<Fallback>().unwrap(), Fallback::Raise);
        assert!("loud"
            .parse::<Fallback>()
            .unwrap_err()
            .to_string()
            .contains("\"loud\""));
    }

    #[test]
    fn auto_keeps_copy_bound_stages_on_the_cpu_and_moves_resident_heavy_ones() {
        let copy_bound = StageCost {
            bytes_in_per_row: 16,
            bytes_out_per_row: 8,
            rows: 8192,
            ops_per_row: 3,
            resident: false,
        };
        let (device, why) = choose(&copy_bound, Some(Device::Cuda(0)));
        assert_eq!(device, Device::Cpu, "{why}");
        assert!(why.contains("MB moved"), "{why}");
        let heavy = StageCost {
            bytes_in_per_row: 8,
            bytes_out_per_row: 8,
            rows: 1 << 20,
            ops_per_row: 200,
            resident: true,
        };
        assert_eq!(choose(&heavy, Some(Device::Cuda(0))).0, Device::Cuda(0));
        assert_eq!(choose(&heavy, None), (Device::Cpu, "auto: no GPU".into()));
    }
}
