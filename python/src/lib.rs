//! Python bindings of geounify: the extension module `geounify._geounify`, which the pure-Python
//! package `geounify` (in `python/geounify/`) wraps.
//!
//! The Rust side is deliberately narrow: it takes one-dimensional, C-contiguous `float64` numpy
//! arrays (the Python wrapper converts lists, scalars, other numeric dtypes and n-dimensional
//! arrays to that, and refuses the rest), runs them through the core crate's batch path
//! ([`geounify::Transformer::transform_columns`], or `par_transform_columns` on all cores) with
//! the GIL released, and hands back new arrays plus a [`Failures`] report. Arrow arrays go through
//! the core crate's Arrow kernel.
//!
//! Build with maturin (`maturin develop` in `python/`); `cargo test -p geounify-python` and
//! `cargo clippy -p geounify-python` work too, because pyo3 links libpython unless maturin asks
//! for an extension module (it sets `PYO3_BUILD_EXTENSION_MODULE`), so no `extension-module`
//! feature is needed.

mod arrow;
mod errors;
mod registry;
mod transformer;

use pyo3::prelude::*;

pub use errors::{CrsError, CrsFileError, GeounifyError, TransformError};
pub use registry::Registry;
pub use transformer::{Failures, Transformer};

/// The extension module `geounify._geounify`.
#[pymodule]
fn _geounify(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("GeounifyError", py.get_type::<GeounifyError>())?;
    m.add("CrsError", py.get_type::<CrsError>())?;
    m.add("CrsFileError", py.get_type::<CrsFileError>())?;
    m.add("TransformError", py.get_type::<TransformError>())?;
    m.add_class::<Registry>()?;
    m.add_class::<Transformer>()?;
    m.add_class::<Failures>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
