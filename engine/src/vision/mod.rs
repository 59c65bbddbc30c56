//! Images: decoding files into tensors ([`read`], the `image` crate) and resampling them
//! ([`resize`]: interpolation through `fast_image_resize`, [`nearest`] and [`area`] our
//! own), on rayon.

pub mod area;
pub mod nearest;
pub mod read;
pub mod resize;

pub use read::{read_images, ColorMode};
pub use resize::{algorithm, resize_images};
