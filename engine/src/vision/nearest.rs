//! Nearest-neighbour resampling: pixels copied, so any element type.

use rayon::prelude::*;

/// Nearest-neighbour resampling of any element type: output pixel `i` of a side of `to`
/// takes input pixel ⌊(i + ½)·from/to⌋ (Pillow's rule, here in exact integers), copied as
/// `pixel_bytes` bytes.
pub fn nearest(
    input: &[u8],
    shape: [usize; 4],
    pixel_bytes: usize,
    size: (usize, usize),
    out: &mut [u8],
) {
    let [_, height, width, _] = shape;
    let source = |i: usize, from: usize, to: usize| ((2 * i + 1) * from) / (2 * to);
    let rows: Vec<usize> = (0..size.0).map(|y| source(y, height, size.0)).collect();
    let cols: Vec<usize> = (0..size.1).map(|x| source(x, width, size.1)).collect();
    let (in_row, out_row) = (width * pixel_bytes, size.1 * pixel_bytes);
    let (in_image, out_image) = (height * in_row, size.0 * out_row);
    out.par_chunks_mut(out_image)
        .zip(input.par_chunks(in_image))
        .for_each(|(dst, src)| {
            for (dst_row, &y) in dst.chunks_exact_mut(out_row).zip(&rows) {
                let src_row = &src[y * in_row..(y + 1) * in_row];
                for (pixel, &x) in dst_row.chunks_exact_mut(pixel_bytes).zip(&cols) {
                    pixel.copy_from_slice(&src_row[x * pixel_bytes..(x + 1) * pixel_bytes]);
                }
            }
        });
}
