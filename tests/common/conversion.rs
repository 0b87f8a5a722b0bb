//! `convert_file` as the format tests call it: no progress reporting, the options spelled out
//! or only `skip_invalid` set.

use geounify::convert::{convert_file, ConvertError, ConvertOptions, ConvertReport, NoProgress};
use geounify::Crs;
use std::path::Path;

/// Converts `input` from `from` to `to` into `output` with `options`; the library's result,
/// unchanged.
pub fn convert(
    input: &Path,
    output: &Path,
    from: &Crs,
    to: &Crs,
    options: &ConvertOptions,
) -> Result<ConvertReport, ConvertError> {
    convert_file(input, output, from, to, options, &NoProgress)
}

/// [`convert`] with the default options but `skip_invalid`.
pub fn convert_skipping(
    input: &Path,
    output: &Path,
    from: &Crs,
    to: &Crs,
    skip_invalid: bool,
) -> Result<ConvertReport, ConvertError> {
    let options = ConvertOptions { skip_invalid, ..ConvertOptions::default() };
    convert(input, output, from, to, &options)
}
