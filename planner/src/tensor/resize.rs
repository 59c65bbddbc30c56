//! Image resampling as a graph node: which axes are the image's height and width, how the
//! pixels are resampled, and the dtypes a resampler handles (the engine runs it through
//! `fast_image_resize`).

use super::dtype::DType;
use super::graph::{Kind, Tensor};
use crate::error::{CorepyError, Result};

/// How pixels are resampled (see `cp.vision.resize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResizeMethod {
    Nearest,
    Bilinear,
    Bicubic,
    Lanczos,
    /// Each output pixel the mean of the input area it covers (a box filter).
    Area,
}

impl ResizeMethod {
    pub fn parse(name: &str) -> Result<ResizeMethod> {
        Ok(match name {
            "nearest" => ResizeMethod::Nearest,
            "bilinear" => ResizeMethod::Bilinear,
            "bicubic" => ResizeMethod::Bicubic,
            "lanczos" => ResizeMethod::Lanczos,
            "area" => ResizeMethod::Area,
            other => {
                return Err(CorepyError::invalid_argument(format!(
                    "unknown resize method {other:?}; use 'nearest', 'bilinear', 'bicubic', \
                     'lanczos' or 'area'"
                )))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ResizeMethod::Nearest => "nearest",
            ResizeMethod::Bilinear => "bilinear",
            ResizeMethod::Bicubic => "bicubic",
            ResizeMethod::Lanczos => "lanczos",
            ResizeMethod::Area => "area",
        }
    }
}

/// A resize of the `height_axis` × `width_axis` planes of a tensor to `size`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resize {
    pub height_axis: usize,
    pub width_axis: usize,
    /// (height, width) of the result.
    pub size: (usize, usize),
    pub method: ResizeMethod,
    /// Widen the filter when shrinking so that every input pixel counts (Pillow's and
    /// torchvision's `antialias=True`); without it, a fixed-size kernel (OpenCV's).
    pub antialias: bool,
}

/// The layouts images come in, by axis names.
const LAYOUTS: [&str; 6] = ["NHWC", "NCHW", "HWC", "CHW", "HW", "auto"];

/// Channels an image has at most (gray, gray + alpha, RGB, RGBA) — how `auto` tells the
/// channel axis.
const MAX_CHANNELS: usize = 4;

/// The (height, width) axes of `shape` in `layout` (`auto`: the channels are the last axis
/// or the third from last, whichever alone has at most four entries).
pub fn image_axes(shape: &[usize], layout: &str) -> Result<(usize, usize)> {
    let rank = shape.len();
    let named = match layout {
        "auto" => return auto_axes(shape),
        l if LAYOUTS.contains(&l) => l,
        other => {
            return Err(CorepyError::invalid_argument(format!(
                "unknown layout {other:?}; use one of {}",
                LAYOUTS.join(", ")
            )))
        }
    };
    if named.len() != rank {
        return Err(CorepyError::Shape {
            message: format!(
                "layout {named} needs a tensor of rank {}, got shape {shape:?}",
                named.len()
            ),
        });
    }
    let h = named.find('H').expect("every layout names H");
    Ok((h, h + 1))
}

fn auto_axes(shape: &[usize]) -> Result<(usize, usize)> {
    let rank = shape.len();
    let channels = |axis: usize| shape[axis] <= MAX_CHANNELS;
    match rank {
        2 => Ok((0, 1)),
        3 | 4 => match (channels(rank - 1), channels(rank - 3)) {
            (true, false) => Ok((rank - 3, rank - 2)),
            (false, true) => Ok((rank - 2, rank - 1)),
            (both, _) => {
                let why = if both {
                    "both the last and the third from last axis have"
                } else {
                    "neither the last nor the third from last axis has"
                };
                Err(CorepyError::Shape {
                    message: format!(
                        "cannot tell the channel axis of an image tensor of shape {shape:?} \
                         ({why} at most {MAX_CHANNELS} entries); pass layout='NHWC', 'NCHW', \
                         'HWC' or 'CHW'"
                    ),
                })
            }
        },
        _ => Err(CorepyError::Shape {
            message: format!(
                "resize takes images of rank 2 (HW), 3 (HWC, CHW) or 4 (NHWC, NCHW), got shape \
                 {shape:?}"
            ),
        }),
    }
}

/// The element types the interpolating resamplers read (float64 is resampled in float32).
pub fn resampled_dtype(dtype: DType) -> Result<DType> {
    match dtype {
        DType::U8 | DType::U16 | DType::F32 => Ok(dtype),
        DType::F64 => Ok(DType::F32),
        other => Err(CorepyError::schema(format!(
            "resize supports uint8, uint16, float32 and float64 images, not {} (method \
             'nearest' takes any); convert with .astype('float32') first",
            other.name()
        ))),
    }
}

impl Tensor {
    /// The tensor with its `(height, width)` axes resampled to `size`.
    pub fn resize(
        &self,
        size: (usize, usize),
        method: ResizeMethod,
        antialias: bool,
        layout: &str,
    ) -> Result<Tensor> {
        let (height_axis, width_axis) = image_axes(self.shape(), layout)?;
        if size.0 == 0 || size.1 == 0 {
            return Err(CorepyError::invalid_argument(format!(
                "resize to {size:?}: the height and width must be positive"
            )));
        }
        if self.shape()[height_axis] == 0 || self.shape()[width_axis] == 0 {
            return Err(CorepyError::Shape {
                message: format!("cannot resize images of size 0 (shape {:?})", self.shape()),
            });
        }
        // Nearest copies pixels: any element type.
        let working = if method == ResizeMethod::Nearest {
            self.dtype()
        } else {
            resampled_dtype(self.dtype())?
        };
        let input = self.cast(working);
        let mut shape = self.shape().to_vec();
        shape[height_axis] = size.0;
        shape[width_axis] = size.1;
        let spec = Resize {
            height_axis,
            width_axis,
            size,
            method,
            antialias,
        };
        let resized = Tensor::new(Kind::Resize(spec, input), shape, working);
        Ok(resized.cast(self.dtype()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_name_the_image_axes() {
        assert_eq!(image_axes(&[2, 64, 48, 3], "auto").unwrap(), (1, 2));
        assert_eq!(image_axes(&[2, 3, 64, 48], "auto").unwrap(), (2, 3));
        assert_eq!(image_axes(&[64, 48], "auto").unwrap(), (0, 1));
        assert_eq!(image_axes(&[3, 64, 48], "auto").unwrap(), (1, 2));
        assert_eq!(image_axes(&[2, 3, 64, 3], "NCHW").unwrap(), (2, 3));
        // Both could be channels: the caller names the layout.
        assert!(image_axes(&[1, 1, 4, 4], "auto").is_err());
        assert!(image_axes(&[2, 9, 64, 48], "auto").is_err());
        assert!(image_axes(&[2, 64, 48], "NHWC").is_err());
        assert!(image_axes(&[2, 64, 48, 3], "NWHC").is_err());
    }
}
