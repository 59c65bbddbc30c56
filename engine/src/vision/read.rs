//! `cp.read_images`: JPEG and PNG files decoded in parallel (the `image` crate, one file a
//! rayon task) straight into one uint8 tensor [images, height, width, channels].
//!
//! Without a target size every image must have the first one's size: the headers are read
//! first (cheap), so a mismatch is reported, listing the sizes and files, before anything
//! is decoded. With a size, each image is resampled as it is decoded (antialiased
//! bilinear, Pillow's filter), so a folder of mixed sizes loads as one batch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{PixelType, ResizeOptions, Resizer};
use image::{DynamicImage, ImageReader};
use rayon::prelude::*;

use corepy_planner::tensor::{Buffer, DType, ResizeMethod, TensorData};
use corepy_planner::{CorepyError, Result};

use super::resize::algorithm;
use crate::files::resolve::resolve_files;

/// The extensions of the files a directory contributes.
const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// The channels each pixel gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// Gray: one channel.
    L,
    Rgb,
    Rgba,
}

impl ColorMode {
    pub fn parse(name: &str) -> Result<ColorMode> {
        match name {
            "L" => Ok(ColorMode::L),
            "RGB" => Ok(ColorMode::Rgb),
            "RGBA" => Ok(ColorMode::Rgba),
            other => Err(CorepyError::invalid_argument(format!(
                "unknown image mode {other:?}; use 'RGB', 'RGBA' or 'L'"
            ))),
        }
    }

    pub fn channels(self) -> usize {
        match self {
            ColorMode::L => 1,
            ColorMode::Rgb => 3,
            ColorMode::Rgba => 4,
        }
    }

    fn pixel_type(self) -> PixelType {
        match self {
            ColorMode::L => PixelType::U8,
            ColorMode::Rgb => PixelType::U8x3,
            ColorMode::Rgba => PixelType::U8x4,
        }
    }

    /// The decoded image's pixels in this mode, row-major.
    fn pixels(self, image: DynamicImage) -> Vec<u8> {
        match (self, image.color().has_color()) {
            (ColorMode::L, false) => image.into_luma8().into_raw(),
            (ColorMode::L, true) => luma(&image.into_rgb8().into_raw()),
            (ColorMode::Rgb, _) => image.into_rgb8().into_raw(),
            (ColorMode::Rgba, _) => image.into_rgba8().into_raw(),
        }
    }
}

/// Gray from RGB with ITU-R 601 weights (0.299, 0.587, 0.114), rounded, as Pillow's
/// `convert("L")` and torchvision compute it (the `image` crate weighs by Rec. 709).
fn luma(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .map(|p| {
            let weighted = 19595 * p[0] as u32 + 38470 * p[1] as u32 + 7471 * p[2] as u32;
            ((weighted + 0x8000) >> 16) as u8
        })
        .collect()
}

/// The images `path` names (a file, a glob, or a directory's JPEG and PNG files), decoded
/// into [images, height, width, channels] uint8; `size` = (height, width) resamples each.
pub fn read_images(
    path: &str,
    parallel: bool,
    size: Option<(usize, usize)>,
    mode: ColorMode,
) -> Result<TensorData> {
    let files = image_files(path)?;
    if let Some((h, w)) = size {
        if h == 0 || w == 0 || u32::try_from(h.max(w)).is_err() {
            return Err(CorepyError::invalid_argument(format!(
                "size=({h}, {w}): the height and width must be positive"
            )));
        }
    }
    let (height, width) = match size {
        Some(size) => size,
        None => common_size(&files, parallel)?,
    };
    let channels = mode.channels();
    let per_image = height * width * channels;
    let (buffer, mut writer) = Buffer::for_overwrite(files.len() * per_image);
    let load = |(slot, file): (&mut [u8], &PathBuf)| load_into(file, mode, (height, width), slot);
    let slots = writer.as_mut_slice();
    if parallel {
        slots
            .par_chunks_mut(per_image.max(1))
            .zip(files.par_iter())
            .try_for_each(load)?;
    } else {
        slots
            .chunks_mut(per_image.max(1))
            .zip(files.iter())
            .try_for_each(load)?;
    }
    drop(writer);
    Ok(TensorData::dense(
        buffer,
        DType::U8,
        vec![files.len(), height, width, channels],
    ))
}

/// The files of `path`; a directory gives its images (by extension), sorted.
fn image_files(path: &str) -> Result<Vec<PathBuf>> {
    let dir = Path::new(path);
    if !dir.is_dir() {
        return resolve_files(path);
    }
    let entries =
        std::fs::read_dir(dir).map_err(|e| CorepyError::file_format(path, e.to_string()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    if files.is_empty() {
        return Err(CorepyError::PathNotFound {
            path: format!("{path} (no .jpg, .jpeg or .png files in the directory)"),
        });
    }
    files.sort();
    Ok(files)
}

fn reader(file: &Path) -> Result<ImageReader<std::io::BufReader<std::fs::File>>> {
    let shown = file.display().to_string();
    ImageReader::open(file)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| CorepyError::file_format(&shown, format!("cannot open the image: {e}")))
}

/// The (height, width) every file has, read from the headers; an error lists the sizes.
fn common_size(files: &[PathBuf], parallel: bool) -> Result<(usize, usize)> {
    let header = |file: &PathBuf| -> Result<(usize, usize)> {
        let (w, h) = reader(file)?.into_dimensions().map_err(|e| {
            CorepyError::file_format(
                file.display().to_string(),
                format!("not a readable image: {e}"),
            )
        })?;
        Ok((h as usize, w as usize))
    };
    let sizes: Vec<(usize, usize)> = if parallel {
        files.par_iter().map(header).collect::<Result<_>>()?
    } else {
        files.iter().map(header).collect::<Result<_>>()?
    };
    let mut by_size: BTreeMap<(usize, usize), Vec<&PathBuf>> = BTreeMap::new();
    for (size, file) in sizes.iter().zip(files) {
        by_size.entry(*size).or_default().push(file);
    }
    if by_size.len() == 1 {
        return Ok(sizes[0]);
    }
    const SHOWN: usize = 3;
    let listed: Vec<String> = by_size
        .iter()
        .take(8)
        .map(|((h, w), files)| {
            let names: Vec<String> = files
                .iter()
                .take(SHOWN)
                .map(|f| {
                    f.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect();
            let more = if files.len() > SHOWN {
                format!(" and {} more", files.len() - SHOWN)
            } else {
                String::new()
            };
            format!("{h}x{w}: {}{more}", names.join(", "))
        })
        .collect();
    Err(CorepyError::Shape {
        message: format!(
            "the images differ in size (height x width) — {}; pass size=(height, width) to \
             resize them as they load",
            listed.join("; ")
        ),
    })
}

/// Decodes `file` into `slot` (height × width × channels bytes), resampled when its size
/// differs.
fn load_into(
    file: &Path,
    mode: ColorMode,
    (height, width): (usize, usize),
    slot: &mut [u8],
) -> Result<()> {
    let shown = file.display().to_string();
    let image = reader(file)?
        .decode()
        .map_err(|e| CorepyError::file_format(&shown, format!("cannot decode the image: {e}")))?;
    let (w, h) = (image.width(), image.height());
    let pixels = mode.pixels(image);
    if (h as usize, w as usize) == (height, width) {
        slot.copy_from_slice(&pixels);
        return Ok(());
    }
    let failed = |e: &dyn std::fmt::Display| {
        CorepyError::file_format(&shown, format!("cannot resize the image: {e}"))
    };
    let src = ImageRef::new(w, h, &pixels, mode.pixel_type()).map_err(|e| failed(&e))?;
    let mut dst = Image::from_slice_u8(width as u32, height as u32, slot, mode.pixel_type())
        .map_err(|e| failed(&e))?;
    let options = ResizeOptions::new()
        .resize_alg(algorithm(ResizeMethod::Bilinear, true).expect("a convolution"))
        .use_alpha(false);
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| failed(&e))
}
