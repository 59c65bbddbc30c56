//! String tests on `Utf8View` arrays, view by view: a view holds a string's length and
//! its first four bytes, or all of it when it has 12 bytes or fewer, so most values are
//! told apart without reading their bytes.

use datafusion::arrow::array::StringViewArray;
use datafusion::arrow::buffer::{BooleanBuffer, Buffer};

/// Which values of `array` are one of `wanted`: first by their views alone, 64 to a word
/// without a branch (exact for texts of 12 bytes or fewer, which a view holds whole), then,
/// where a view matched a longer text's length and first four bytes, by the bytes.
pub(super) fn views_one_of(wanted: &[ViewMatch<'_>], array: &StringViewArray) -> BooleanBuffer {
    let views: &[u128] = array.views();
    let masks: Vec<(u128, u128)> = wanted.iter().map(|w| (w.mask, w.masked)).collect();
    // Up to four texts with their count fixed at compile time: the loop over them unrolls
    // (two IN values over 6 M views: 25 ms, against 32 through a slice).
    let mut words = match masks.as_slice() {
        [a] => candidates(views, [*a]),
        [a, b] => candidates(views, [*a, *b]),
        [a, b, c] => candidates(views, [*a, *b, *c]),
        [a, b, c, d] => candidates(views, [*a, *b, *c, *d]),
        more => candidates(views, more),
    };
    if wanted.iter().any(|w| w.text.len() > 12) {
        // A view equal to the last one checked names the same bytes (buffers do not
        // change): Parquet's dictionary pages decode each distinct string to one view.
        let mut last: Option<(u128, bool)> = None;
        for (w, word) in words.iter_mut().enumerate() {
            let mut bits = *word;
            while bits != 0 {
                let j = bits.trailing_zeros();
                let view = views[w * 64 + j as usize];
                let found = match last {
                    Some((seen, found)) if seen == view => found,
                    _ => wanted.iter().any(|t| t.matches(view, array)),
                };
                last = Some((view, found));
                if !found {
                    *word &= !(1u64 << j);
                }
                bits &= bits - 1;
            }
        }
    }
    BooleanBuffer::new(Buffer::from_vec(words), 0, views.len())
}

/// One bit per view: whether it matches one of the `(mask, masked)` pairs. (A whole word's
/// 64 answers are found first and packed after: packing as it goes chains every row to the
/// last through the word, which measured twice as slow.)
fn candidates<M: AsRef<[(u128, u128)]>>(views: &[u128], masks: M) -> Vec<u64> {
    let masks = masks.as_ref();
    let hit = |view: &u128| {
        masks
            .iter()
            .fold(false, |hit, (mask, masked)| hit | (view & mask == *masked))
    };
    let mut words = Vec::with_capacity(views.len().div_ceil(64));
    let mut chunks = views.chunks_exact(64);
    for chunk in &mut chunks {
        let mut hits = [0u8; 64];
        for (h, view) in hits.iter_mut().zip(chunk) {
            *h = u8::from(hit(view));
        }
        words.push(
            hits.iter()
                .enumerate()
                .fold(0u64, |word, (j, h)| word | (u64::from(*h) << j)),
        );
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        words.push(
            rest.iter()
                .enumerate()
                .fold(0u64, |word, (j, v)| word | (u64::from(hit(v)) << j)),
        );
    }
    words
}

/// Whether two byte strings are equal, compared eight bytes at a time. (Slice equality
/// calls `memcmp`, which measured 60 ns a call here even for no bytes — more than the
/// whole test of a short string.)
pub(super) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a_words, mut b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    let words_equal = (&mut a_words).zip(&mut b_words).all(|(x, y)| {
        u64::from_ne_bytes(x.try_into().expect("8 bytes"))
            == u64::from_ne_bytes(y.try_into().expect("8 bytes"))
    });
    words_equal
        && a_words
            .remainder()
            .iter()
            .zip(b_words.remainder())
            .all(|(x, y)| x == y)
}

/// The bytes of the string a view describes: inline (12 bytes or fewer) or in a data
/// buffer.
pub(super) fn view_bytes<'a>(view: &'a u128, array: &'a StringViewArray) -> &'a [u8] {
    let len = *view as u32 as usize;
    if len <= 12 {
        // SAFETY: a u128 is 16 initialized bytes; the inline data follows the 4-byte length
        // (little-endian layout, which Arrow's view format fixes).
        let bytes: &[u8; 16] = unsafe { &*(view as *const u128 as *const [u8; 16]) };
        return &bytes[4..4 + len];
    }
    let buffer = (*view >> 64) as u32 as usize;
    let offset = (*view >> 96) as u32 as usize;
    &array.data_buffers()[buffer][offset..offset + len]
}

/// One wanted string, compared view to view: the length and the first bytes (all of them
/// when the string is inline) under a mask, so that whatever lies past a short string's
/// end in its view does not count; a longer one is then compared in its data buffer.
pub(super) struct ViewMatch<'a> {
    pub(super) text: &'a [u8],
    mask: u128,
    masked: u128,
}

impl<'a> ViewMatch<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let text = text.as_bytes();
        let mut view = [0u8; 16];
        view[..4].copy_from_slice(&(text.len() as u32).to_le_bytes());
        let shown = text.len().min(if text.len() <= 12 { 12 } else { 4 });
        view[4..4 + shown].copy_from_slice(&text[..shown]);
        let mut mask = [0u8; 16];
        mask[..4 + shown].fill(0xFF);
        ViewMatch {
            text,
            mask: u128::from_le_bytes(mask),
            masked: u128::from_le_bytes(view),
        }
    }

    pub(super) fn matches(&self, view: u128, array: &StringViewArray) -> bool {
        view & self.mask == self.masked
            && (self.text.len() <= 12 || same_bytes(view_bytes(&view, array), self.text))
    }
}
