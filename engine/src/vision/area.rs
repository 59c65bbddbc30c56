//! Area resampling: each output pixel is the mean of the input area it covers, an input
//! pixel that is covered in part weighing by the part covered (OpenCV's `INTER_AREA` when
//! shrinking; an integer factor gives the mean of each block, as PyTorch's `area` and
//! Pillow's `reduce`). Separable: rows, then columns, in f64.

use rayon::prelude::*;

use corepy_planner::tensor::DType;

/// The input pixels output pixel `i` of a side covers: the first, and each one's weight.
/// Output `i` spans [i·from, (i+1)·from) and input `j` spans [j·to, (j+1)·to) in units of
/// 1/to input pixels, so the overlaps are exact integers.
fn coverage(from: usize, to: usize) -> Vec<(usize, Vec<f64>)> {
    (0..to)
        .map(|i| {
            let (lo, hi) = (i * from, (i + 1) * from);
            let first = lo / to;
            let last = hi.div_ceil(to).min(from);
            let weights = (first..last)
                .map(|j| {
                    let overlap = ((j + 1) * to).min(hi) - (j * to).max(lo);
                    overlap as f64 / from as f64
                })
                .collect();
            (first, weights)
        })
        .collect()
}

/// An element read as f64, and a value written back (integers rounded to nearest and
/// saturated).
fn read(dtype: DType, bytes: &[u8]) -> f64 {
    match dtype {
        DType::U8 => bytes[0] as f64,
        DType::U16 => u16::from_le_bytes([bytes[0], bytes[1]]) as f64,
        _ => f32::from_le_bytes(bytes.try_into().expect("4 bytes")) as f64,
    }
}

fn write(dtype: DType, value: f64, bytes: &mut [u8]) {
    match dtype {
        DType::U8 => bytes[0] = value.round().clamp(0.0, 255.0) as u8,
        DType::U16 => {
            bytes.copy_from_slice(&(value.round().clamp(0.0, 65535.0) as u16).to_le_bytes())
        }
        _ => bytes.copy_from_slice(&(value as f32).to_le_bytes()),
    }
}

/// Area-resamples the images of `input` ([images, height, width, channels], dense uint8,
/// uint16 or float32) into `out` ([images, size.0, size.1, channels]).
pub fn area(input: &[u8], shape: [usize; 4], dtype: DType, size: (usize, usize), out: &mut [u8]) {
    let [_, height, width, channels] = shape;
    let e = dtype.size();
    let (columns, rows) = (coverage(width, size.1), coverage(height, size.0));
    let in_image = height * width * channels * e;
    let out_image = size.0 * size.1 * channels * e;
    out.par_chunks_mut(out_image)
        .zip(input.par_chunks(in_image))
        .for_each(|(dst, src)| {
            // Each input row resampled along the width.
            let mut narrow = vec![0f64; height * size.1 * channels];
            for y in 0..height {
                for (x, (first, weights)) in columns.iter().enumerate() {
                    for c in 0..channels {
                        let mut sum = 0.0;
                        for (k, w) in weights.iter().enumerate() {
                            let at = ((y * width + first + k) * channels + c) * e;
                            sum += w * read(dtype, &src[at..at + e]);
                        }
                        narrow[(y * size.1 + x) * channels + c] = sum;
                    }
                }
            }
            // Then along the height.
            let row = size.1 * channels;
            for (y, (first, weights)) in rows.iter().enumerate() {
                for i in 0..row {
                    let sum: f64 = weights
                        .iter()
                        .enumerate()
                        .map(|(k, w)| w * narrow[(first + k) * row + i])
                        .sum();
                    let at = (y * row + i) * e;
                    write(dtype, sum, &mut dst[at..at + e]);
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_weights_sum_to_one_and_split_shared_pixels() {
        for (from, to) in [(4, 2), (5, 3), (3, 5), (7, 7), (1, 4), (9, 1)] {
            for (first, weights) in coverage(from, to) {
                assert!(
                    (weights.iter().sum::<f64>() - 1.0).abs() < 1e-12,
                    "{from}->{to}"
                );
                assert!(first + weights.len() <= from);
            }
        }
        // 5 → 3: output 0 covers input 0 and two thirds of input 1.
        let (first, weights) = &coverage(5, 3)[0];
        assert_eq!(*first, 0);
        assert!((weights[0] - 0.6).abs() < 1e-12 && (weights[1] - 0.4).abs() < 1e-12);
    }
}
