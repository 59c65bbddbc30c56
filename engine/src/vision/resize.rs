//! Resampling images through `fast_image_resize` (SIMD convolutions, the filters Pillow
//! uses): each image of a dense [images, height, width, channels] buffer on its own rayon
//! task, with one resampler (and its scratch memory) per worker.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use rayon::prelude::*;

use corepy_planner::tensor::{DType, ResizeMethod};
use corepy_planner::{CorepyError, Result};

use super::area::area;
use super::nearest::nearest;

/// The convolution of an interpolating method: with `antialias`, the filter widens when
/// shrinking so that every input pixel counts (Pillow's resize); without, a fixed-size
/// kernel (OpenCV's). `None` for the methods corepy runs itself ([`super::nearest`],
/// [`super::area`]).
pub fn algorithm(method: ResizeMethod, antialias: bool) -> Option<ResizeAlg> {
    let filter = match method {
        ResizeMethod::Nearest | ResizeMethod::Area => return None,
        ResizeMethod::Bilinear => FilterType::Bilinear,
        ResizeMethod::Bicubic => FilterType::CatmullRom,
        ResizeMethod::Lanczos => FilterType::Lanczos3,
    };
    Some(if antialias {
        ResizeAlg::Convolution(filter)
    } else {
        ResizeAlg::Interpolation(filter)
    })
}

/// The pixel type of `channels` interleaved components of `dtype`.
fn pixel_type(dtype: DType, channels: usize) -> Result<PixelType> {
    use PixelType::*;
    Ok(match (dtype, channels) {
        (DType::U8, 1) => U8,
        (DType::U8, 2) => U8x2,
        (DType::U8, 3) => U8x3,
        (DType::U8, 4) => U8x4,
        (DType::U16, 1) => U16,
        (DType::U16, 2) => U16x2,
        (DType::U16, 3) => U16x3,
        (DType::U16, 4) => U16x4,
        (DType::F32, 1) => F32,
        (DType::F32, 2) => F32x2,
        (DType::F32, 3) => F32x3,
        (DType::F32, 4) => F32x4,
        (dtype, channels) => {
            return Err(CorepyError::internal(format!(
                "resize of {channels} interleaved {} channels",
                dtype.name()
            )))
        }
    })
}

fn side(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| {
        CorepyError::invalid_argument(format!("an image side of {n} pixels is too large"))
    })
}

/// Resamples the images of `input` ([images, height, width, channels], dense) into `out`
/// ([images, size.0, size.1, channels], dense).
pub fn resize_images(
    input: &[u8],
    shape: [usize; 4],
    dtype: DType,
    size: (usize, usize),
    (method, antialias): (ResizeMethod, bool),
    out: &mut [u8],
) -> Result<()> {
    let [images, height, width, channels] = shape;
    if images == 0 {
        return Ok(());
    }
    let Some(algorithm) = algorithm(method, antialias) else {
        match method {
            ResizeMethod::Nearest => nearest(input, shape, channels * dtype.size(), size, out),
            _ => area(input, shape, dtype, size, out),
        }
        return Ok(());
    };
    let pixel = pixel_type(dtype, channels)?;
    let (w, h, to_w, to_h) = (side(width)?, side(height)?, side(size.1)?, side(size.0)?);
    let in_bytes = height * width * channels * dtype.size();
    let out_bytes = size.0 * size.1 * channels * dtype.size();
    if input.len() < images * in_bytes || out.len() != images * out_bytes {
        return Err(CorepyError::internal("resize buffers of the wrong size"));
    }
    // Channels are independent (no alpha premultiplication): a tensor's fourth channel is
    // not known to be alpha.
    let options = ResizeOptions::new().resize_alg(algorithm).use_alpha(false);
    let failed = |e: &dyn std::fmt::Display| CorepyError::internal(format!("resize: {e}"));
    out.par_chunks_mut(out_bytes)
        .zip(input.par_chunks(in_bytes))
        .try_for_each_init(Resizer::new, |resizer, (dst, src)| {
            let src = ImageRef::new(w, h, src, pixel).map_err(|e| failed(&e))?;
            let mut dst = Image::from_slice_u8(to_w, to_h, dst, pixel).map_err(|e| failed(&e))?;
            resizer
                .resize(&src, &mut dst, &options)
                .map_err(|e| failed(&e))
        })
}
