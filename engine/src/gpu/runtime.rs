//! One device: its context and stream, the modules loaded on it (cached by entry name), and
//! the launch code for row and tensor kernels.
//!
//! Device memory comes from the stream's allocator, which is CUDA's stream-ordered pool
//! (`cuMemAllocAsync`) on devices that support it, so buffers freed by one batch are reused
//! by the next without a driver round trip. Uploads of 1 MiB or more go through a pinned
//! (page-locked) staging buffer. Arguments are built from each entry's
//! signature (`corepy_codegen::ptx::EntrySignature`), the same list the renderer declared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corepy_codegen::abi::{bitmap_bytes, padded_rows, values_bytes, ColumnIn, ColumnOut, RunError};
use corepy_codegen::ir::Kernel;
use corepy_codegen::ptx::{decode_failure, EntrySignature, Param, PtxModule, BLOCK};
use corepy_codegen::tensor_abi::{element_bytes, output_shape, TensorIn, TensorOut};
use cudarc::driver::{
    CudaContext, CudaFunction, CudaModule, CudaSlice, CudaStream, DevicePtr, DriverError,
    LaunchConfig, PinnedHostSlice, PushKernelArg,
};

use super::buffers::{device_rows, row_buffers, tensor_buffers, tensor_units, Contents};
use super::probe::GpuInfo;

/// Bytes and time spent moving data and running kernels, for EXPLAIN ANALYZE.
#[derive(Debug, Clone, Copy, Default)]
pub struct Transfer {
    pub to_device_bytes: usize,
    pub to_host_bytes: usize,
    pub copy_time: Duration,
    pub kernel_time: Duration,
}

/// Why a run on the GPU did not give an answer.
#[derive(Debug)]
pub enum GpuRunError {
    /// The data raised an error (the same the CPU would raise).
    Kernel(RunError),
    /// The device failed: out of memory, a launch failure, a lost context.
    Device(String),
}

impl From<DriverError> for GpuRunError {
    fn from(e: DriverError) -> Self {
        GpuRunError::Device(format!("CUDA driver error {e:?}"))
    }
}

/// An opened device.
pub struct Gpu {
    pub info: GpuInfo,
    context: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    functions: Mutex<HashMap<String, CudaFunction>>,
    /// One run at a time on the stream: runs of several partitions queue here. It also
    /// guards the staging buffer.
    running: Mutex<()>,
    /// Page-locked host memory that uploads go through (the DMA engine reads it directly;
    /// from pageable memory the driver would stage each copy itself). Grown to the largest
    /// upload, kept for the process.
    staging: Mutex<Option<PinnedHostSlice<u8>>>,
}

/// Uploads smaller than this go straight from pageable memory: copying them into the
/// staging buffer first would cost more than it saves.
const STAGED_FROM: usize = 1 << 20;

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gpu({:?})", self.info)
    }
}

impl Gpu {
    pub fn new(context: Arc<CudaContext>, info: GpuInfo) -> Self {
        let stream = context.default_stream();
        Gpu {
            info,
            context,
            stream,
            functions: Mutex::new(HashMap::new()),
            running: Mutex::new(()),
            staging: Mutex::new(None),
        }
    }

    /// The entry's function, loading its module on first use.
    fn function(&self, module: &PtxModule, entry: &str) -> Result<CudaFunction, GpuRunError> {
        let mut functions = self.functions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = functions.get(entry) {
            return Ok(f.clone());
        }
        let loaded: Arc<CudaModule> = self
            .context
            .load_module(cudarc::nvrtc::Ptx::from_src(module.text.clone()))
            .map_err(|e| {
                GpuRunError::Device(format!("the driver refused PTX module {entry}: {e:?}"))
            })?;
        for signature in &module.entries {
            let f = loaded.load_function(&signature.name)?;
            functions.insert(signature.name.clone(), f);
        }
        functions
            .get(entry)
            .cloned()
            .ok_or_else(|| GpuRunError::Device(format!("no entry {entry} in its module")))
    }

    /// The precompiled helper's exclusive prefix sums of a filter's tile counts (in
    /// `buffers`), and their total.
    fn tile_offsets(
        &self,
        buffers: &[(Param, CudaSlice<u8>)],
        tiles: usize,
    ) -> Result<(CudaSlice<u8>, u64), GpuRunError> {
        use corepy_codegen::ptx::precompiled::{
            TILE_OFFSETS_ENTRY, TILE_OFFSETS_PTX, TILE_OFFSETS_THREADS,
        };
        let helper = PtxModule {
            text: TILE_OFFSETS_PTX.to_string(),
            entries: vec![EntrySignature {
                name: TILE_OFFSETS_ENTRY.to_string(),
                params: Vec::new(),
            }],
        };
        let f = self.function(&helper, TILE_OFFSETS_ENTRY)?;
        let counts = &buffers
            .iter()
            .find(|(p, _)| *p == Param::TileCounts)
            .expect("counts")
            .1;
        let offsets = self.stream.alloc_zeros::<u8>(tiles.max(1) * 8)?;
        let total = self.stream.alloc_zeros::<u8>(8)?;
        let tiles = tiles as u64;
        let mut builder = self.stream.launch_builder(&f);
        builder.arg(counts).arg(&offsets).arg(&tiles).arg(&total);
        let config = LaunchConfig {
            grid_dim: (1, 1, 1),
            block_dim: (TILE_OFFSETS_THREADS, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: the helper's four parameters (checked against its PTX by the codegen
        // tests): the counts (a u32 a tile), the offsets (a u64 a tile), the tile count and
        // a u64 for the total.
        unsafe { builder.launch(config) }?;
        let total_bytes: Vec<u8> = self.stream.clone_dtoh(&total)?;
        Ok((
            offsets,
            u64::from_le_bytes(total_bytes[..8].try_into().expect("8 bytes")),
        ))
    }

    /// Blocks for a grid over `units` tiles: enough to fill the device, at most one a tile.
    fn grid(&self, units: usize) -> LaunchConfig {
        let blocks = units.clamp(1, self.info.multiprocessors * 8) as u32;
        LaunchConfig {
            grid_dim: (blocks, 1, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: 0,
        }
    }

    /// Launches `signature`'s entry with the device addresses (or values) of `args`.
    fn launch(
        &self,
        module: &PtxModule,
        signature: &EntrySignature,
        args: &Args<'_>,
        units: usize,
    ) -> Result<(), GpuRunError> {
        let f = self.function(module, &signature.name)?;
        let values: Vec<u64> = signature
            .params
            .iter()
            .map(|p| {
                args.value(*p).ok_or_else(|| {
                    GpuRunError::Device(format!("no buffer for parameter {}", p.name()))
                })
            })
            .collect::<Result<_, _>>()?;
        let mut builder = self.stream.launch_builder(&f);
        for v in &values {
            builder.arg(v);
        }
        // SAFETY: the parameters follow the entry's signature, each a u64 (a device address
        // of a buffer sized for the kernel, or a count), as the renderer declared them.
        unsafe { builder.launch(self.grid(units)) }?;
        Ok(())
    }

    fn upload(
        &self,
        bytes: &[u8],
        len: usize,
        transfer: &mut Transfer,
    ) -> Result<CudaSlice<u8>, GpuRunError> {
        let mut slice = self.stream.alloc_zeros::<u8>(len.max(bytes.len()).max(8))?;
        if bytes.len() >= STAGED_FROM {
            self.upload_staged(bytes, &mut slice)?;
        } else if !bytes.is_empty() {
            self.stream
                .memcpy_htod(bytes, &mut slice.slice_mut(0..bytes.len()))?;
        }
        transfer.to_device_bytes += bytes.len();
        Ok(slice)
    }

    /// Copies `bytes` to the start of `slice` through the pinned staging buffer, and waits
    /// for the copy (the buffer is reused by the next upload).
    fn upload_staged(&self, bytes: &[u8], slice: &mut CudaSlice<u8>) -> Result<(), GpuRunError> {
        let mut staging = self.staging.lock().unwrap_or_else(|e| e.into_inner());
        if staging.as_ref().is_none_or(|s| s.len() < bytes.len()) {
            // SAFETY: page-locked memory of the given length, written below before any read.
            *staging = Some(unsafe {
                self.context
                    .alloc_pinned::<u8>(bytes.len().next_power_of_two())
            }?);
        }
        let pinned = staging.as_mut().expect("allocated above").as_mut_slice()?;
        pinned[..bytes.len()].copy_from_slice(bytes);
        self.stream
            .memcpy_htod(&pinned[..bytes.len()], &mut slice.slice_mut(0..bytes.len()))?;
        self.stream.synchronize()?;
        Ok(())
    }

    fn download(
        &self,
        slice: &CudaSlice<u8>,
        out: &mut [u8],
        transfer: &mut Transfer,
    ) -> Result<(), GpuRunError> {
        let n = out.len().min(slice.len());
        self.stream.memcpy_dtoh(&slice.slice(0..n), &mut out[..n])?;
        // The host reads `out` next: the copy must have landed.
        self.stream.synchronize()?;
        transfer.to_host_bytes += n;
        Ok(())
    }

    /// Runs a row kernel over one batch, as `JitKernel::run` does on the CPU: the same
    /// buffers in, the same buffers out, the rows written returned.
    pub fn run_rows(
        &self,
        kernel: &Kernel,
        module: &PtxModule,
        inputs: &[ColumnIn<'_>],
        rows: usize,
        outputs: &mut [ColumnOut<'_>],
        selection: Option<&mut [u8]>,
    ) -> Result<(usize, Transfer), GpuRunError> {
        corepy_codegen::abi::check_buffers(kernel, inputs, rows, outputs, selection.as_deref())
            .map_err(GpuRunError::Kernel)?;
        let _one_at_a_time = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let mut t = Transfer::default();
        let started = Instant::now();
        let padded = device_rows(rows);
        let tiles = rows.div_ceil(BLOCK as usize);
        let validity: Vec<bool> = inputs.iter().map(|c| c.validity.is_some()).collect();
        let mut buffers: Vec<(Param, CudaSlice<u8>)> = Vec::new();
        for planned in row_buffers(kernel, rows, &validity) {
            let slice = match planned.contents {
                Contents::InputValues(i) => {
                    let n = values_bytes(kernel.inputs[i].ty, rows).min(inputs[i].values.len());
                    self.upload(&inputs[i].values[..n], planned.bytes, &mut t)?
                }
                Contents::InputValidity(i) => {
                    let bits = inputs[i].validity.expect("planned for a bitmap");
                    let n = bitmap_bytes(rows).min(bits.len());
                    self.upload(&bits[..n], planned.bytes, &mut t)?
                }
                Contents::Zeroed => self.stream.alloc_zeros::<u8>(planned.bytes)?,
                Contents::NoFailure => self.stream.clone_htod(&u64::MAX.to_le_bytes())?,
            };
            buffers.push((planned.param, slice));
        }
        self.stream.synchronize()?;
        t.copy_time += started.elapsed();

        let kernel_started = Instant::now();
        let mut written = rows;
        for signature in &module.entries {
            if signature.params.contains(&Param::TileOffsets) {
                // Between a filter's passes: the tiles' kept rows summed into offsets on the
                // device (a precompiled helper); only the total comes back.
                let (offsets, total) = self.tile_offsets(&buffers, tiles)?;
                written = total as usize;
                buffers.push((Param::TileOffsets, offsets));
            }
            let args = Args {
                stream: &self.stream,
                buffers: &buffers,
                offsets: &[],
                rows: rows as u64,
            };
            self.launch(module, signature, &args, tiles)?;
        }
        let failure: Vec<u8> = self.stream.clone_dtoh(
            &buffers
                .iter()
                .find(|(p, _)| *p == Param::Failure)
                .expect("failure")
                .1,
        )?;
        t.kernel_time += kernel_started.elapsed();
        if let Some(f) = decode_failure(u64::from_le_bytes(
            failure[..8].try_into().expect("8 bytes"),
        )) {
            return Err(GpuRunError::Kernel(RunError::Failed(f)));
        }

        let copy_started = Instant::now();
        let find = |p: Param| &buffers.iter().find(|(q, _)| *q == p).expect("allocated").1;
        for (o, out) in outputs.iter_mut().enumerate() {
            let ty = kernel.ty(kernel.outputs[o]);
            let mut values =
                vec![0u8; values_bytes(ty, padded_rows(written)).min(out.values_len())];
            self.download(find(Param::OutputValues(o)), &mut values, &mut t)?;
            out.write_values(0, &values);
            let n = bitmap_bytes(padded_rows(written)).min(out.validity.len());
            self.download(
                find(Param::OutputValidity(o)),
                &mut out.validity[..n],
                &mut t,
            )?;
        }
        if let Some(bits) = selection {
            let n = bits.len().min(bitmap_bytes(padded));
            self.download(find(Param::Selection), &mut bits[..n], &mut t)?;
        }
        self.stream.synchronize()?;
        t.copy_time += copy_started.elapsed();
        Ok((written, t))
    }

    /// Runs a tensor kernel: inputs copied whole, outputs copied back.
    pub fn run_tensor(
        &self,
        kernel: &Kernel,
        module: &PtxModule,
        inputs: &[TensorIn<'_>],
        outputs: &mut [TensorOut<'_>],
    ) -> Result<Transfer, GpuRunError> {
        corepy_codegen::tensor_abi::check_tensor_buffers(kernel, inputs, outputs)
            .map_err(GpuRunError::Kernel)?;
        let _one_at_a_time = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let mut t = Transfer::default();
        let started = Instant::now();
        let lens: Vec<usize> = inputs.iter().map(|i| i.bytes.len()).collect();
        let mut buffers: Vec<(Param, CudaSlice<u8>)> = Vec::new();
        for planned in tensor_buffers(kernel, &lens) {
            let slice = match planned.contents {
                Contents::InputValues(i) => self.upload(inputs[i].bytes, planned.bytes, &mut t)?,
                _ => self.stream.alloc_zeros::<u8>(planned.bytes)?,
            };
            buffers.push((planned.param, slice));
        }
        // Each input is passed as the address of its element at domain index zero.
        let offsets: Vec<(Param, u64)> = inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                (
                    Param::TensorInput(i),
                    (input.offset * element_bytes(kernel.inputs[i].ty)) as u64,
                )
            })
            .collect();
        let n: usize = output_shape(kernel).iter().product();
        self.stream.synchronize()?;
        t.copy_time += started.elapsed();
        let kernel_started = Instant::now();
        for signature in &module.entries {
            let units = tensor_units(kernel, signature);
            let args = Args {
                stream: &self.stream,
                buffers: &buffers,
                offsets: &offsets,
                rows: 0,
            };
            self.launch(module, signature, &args, units)?;
        }
        self.stream.synchronize()?;
        t.kernel_time += kernel_started.elapsed();
        let copy_started = Instant::now();
        for (j, out) in outputs.iter_mut().enumerate() {
            let slice = &buffers
                .iter()
                .find(|(p, _)| *p == Param::TensorOutput(j))
                .expect("allocated")
                .1;
            let len = n * element_bytes(kernel.ty(kernel.outputs[j]));
            self.download(slice, &mut out.bytes[..len], &mut t)?;
        }
        self.stream.synchronize()?;
        t.copy_time += copy_started.elapsed();
        Ok(t)
    }
}

/// The device buffers of one run, by parameter.
struct Args<'a> {
    stream: &'a Arc<CudaStream>,
    buffers: &'a [(Param, CudaSlice<u8>)],
    /// Bytes added to a buffer's address (a tensor input's element zero).
    offsets: &'a [(Param, u64)],
    rows: u64,
}

impl Args<'_> {
    /// A parameter's value: a buffer's device address, the row count, or 0 for a missing
    /// validity bitmap (no NULLs).
    fn value(&self, p: Param) -> Option<u64> {
        match p {
            Param::Rows => Some(self.rows),
            _ => match self.buffers.iter().find(|(q, _)| *q == p) {
                Some((_, slice)) => {
                    let (address, _sync) = slice.device_ptr(self.stream);
                    let offset = self
                        .offsets
                        .iter()
                        .find(|(q, _)| *q == p)
                        .map_or(0, |(_, o)| *o);
                    Some(address + offset)
                }
                None if matches!(p, Param::InputValidity(_)) => Some(0),
                None => None,
            },
        }
    }
}
